// A mirror of the virtio-iommu config space as cloud-hypervisor wrote it
// (virtio-devices/src/iommu.rs, before the fix): `_reserved: [u8; 7]` where the
// specification has 3 reserved bytes: 44 bytes instead of 40.

#[derive(Copy, Clone, Debug, Default)]
#[repr(C, packed)]
struct VirtioIommuRange32 {
    start: u32,
    end: u32,
}

#[derive(Copy, Clone, Debug, Default)]
#[repr(C, packed)]
struct VirtioIommuRange64 {
    start: u64,
    end: u64,
}

// abiscope: struct virtio_iommu_config
#[derive(Copy, Clone, Debug, Default)]
#[repr(C, packed)]
struct VirtioIommuConfig {
    page_size_mask: u64,
    input_range: VirtioIommuRange64,
    domain_range: VirtioIommuRange32,
    probe_size: u32,
    bypass: u8,
    _reserved: [u8; 7],
}
