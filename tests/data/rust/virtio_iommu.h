/* virtio-iommu device configuration layout, written from the VIRTIO 1.2 specification,
 * section 5.13.4 "Device configuration layout" (as Linux's uapi/linux/virtio_iommu.h). */
#include <stdint.h>

typedef uint8_t u8;
typedef uint32_t le32;
typedef uint64_t le64;

struct virtio_iommu_range_64 {
    le64 start;
    le64 end;
};

struct virtio_iommu_range_32 {
    le32 start;
    le32 end;
};

struct virtio_iommu_config {
    le64 page_size_mask;
    struct virtio_iommu_range_64 input_range;
    struct virtio_iommu_range_32 domain_range;
    le32 probe_size;
    u8 bypass;
    u8 reserved[3];
};
