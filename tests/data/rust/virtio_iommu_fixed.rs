// The same mirror, fixed: the layout of the specification on every target.

#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
// abiscope: struct virtio_iommu_range_32
struct VirtioIommuRange32 {
    start: u32,
    end: u32,
}

#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
// abiscope: struct virtio_iommu_range_64
struct VirtioIommuRange64 {
    start: u64,
    end: u64,
}

// abiscope: struct virtio_iommu_config
#[derive(Copy, Clone, Debug, Default)]
#[repr(C)]
struct VirtioIommuConfig {
    page_size_mask: u64,
    input_range: VirtioIommuRange64,
    domain_range: VirtioIommuRange32,
    probe_size: u32,
    bypass: u8,
    reserved: [u8; 3],
}
