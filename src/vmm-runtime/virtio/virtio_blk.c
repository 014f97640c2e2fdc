/*
 * virtio-blk (virtio 1.2 §5.2): see include/virtio_blk.h. A request is a 16-byte
 * device-readable header, data (device-readable for OUT, device-writable for IN and GET_ID)
 * and a final device-writable status byte (§5.2.6), laid out in any way over the chain's
 * buffers (§2.7.4). Request types dispatch through a table.
 */
#include "virtio_blk.h"

#include "vmm_string.h"

#define HDR_LEN sizeof(struct virtio_blk_req_hdr)

static const struct virtio_queue_info blk_queues[] = {
    { "requestq", VIRTIO_BLK_QUEUE_SIZE },
};

/* One parsed request: the data stream is the chain's readable bytes after the header (OUT)
 * or its writable bytes before the status byte (IN, GET_ID). */
struct blk_request {
    const struct virtq_chain *c;
    uint64_t sector;
    uint32_t data_len;      /* bytes of the data stream for this type */
    uint32_t written;       /* data bytes written to the chain (the status byte is extra) */
};

typedef uint8_t (*blk_handler)(struct virtio_blk *b, struct blk_request *r);

static struct virtio_blk *blk_of(struct virtio_mmio_dev *d)
{
    return (struct virtio_blk *)(void *)((char *)d - offsetof(struct virtio_blk, dev));
}

/* §5.2.6.1: the data of IN and OUT is a whole number of sectors; a request that is not, or
 * that reaches beyond the capacity, fails with IOERR. Overflow-safe for any 64-bit sector. */
static bool blk_range(const struct virtio_blk *b, const struct blk_request *r, uint64_t *off)
{
    if (r->data_len % VIRTIO_BLK_SECTOR_SIZE != 0) {
        return false;
    }
    uint64_t sectors = r->data_len / VIRTIO_BLK_SECTOR_SIZE;
    if (r->sector > b->capacity || sectors > b->capacity - r->sector) {
        return false;
    }
    *off = r->sector * VIRTIO_BLK_SECTOR_SIZE;
    return true;
}

static uint8_t blk_in(struct virtio_blk *b, struct blk_request *r)
{
    uint64_t off;
    if (!blk_range(b, r, &off)) {
        return VIRTIO_BLK_S_IOERR;
    }
    r->written = (uint32_t)virtq_chain_write(r->c, 0, b->disk + off, r->data_len);
    b->reads++;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_out(struct virtio_blk *b, struct blk_request *r)
{
    uint64_t off;
    /* §5.2.6.2: a read-only device fails writes and MUST NOT write any data. */
    if (b->read_only || !blk_range(b, r, &off)) {
        return VIRTIO_BLK_S_IOERR;
    }
    virtq_chain_read(r->c, HDR_LEN, b->disk + off, r->data_len);
    b->writes++;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_flush(struct virtio_blk *b, struct blk_request *r)
{
    (void)b;
    (void)r;
    return VIRTIO_BLK_S_OK;     /* writes are never cached */
}

/* §5.2.6: GET_ID writes the 20-byte identifier (NUL-padded, no terminator when 20 long). */
static uint8_t blk_get_id(struct virtio_blk *b, struct blk_request *r)
{
    uint32_t n = r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES;
    r->written = (uint32_t)virtq_chain_write(r->c, 0, b->serial, n);
    return VIRTIO_BLK_S_OK;
}

static const struct {
    uint32_t type;
    bool data_writable;     /* the data stream is the writable part (IN, GET_ID) */
    blk_handler handle;
} blk_requests[] = {
    { VIRTIO_BLK_T_IN,     true,  blk_in },
    { VIRTIO_BLK_T_OUT,    false, blk_out },
    { VIRTIO_BLK_T_FLUSH,  false, blk_flush },
    { VIRTIO_BLK_T_GET_ID, true,  blk_get_id },
};

/* One request; false on a guest error (the device is broken). */
static bool blk_request(struct virtio_blk *b, const struct virtq_chain *c)
{
    struct virtio_mmio_dev *d = &b->dev;
    if (c->readable_len < HDR_LEN || c->writable_len < 1) {
        return virtio_mmio_fail(d, "queue 0 (requestq): the chain from head %u has %u "
                                "device-readable and %u device-writable bytes; a request needs "
                                "a %u-byte header and a status byte (virtio 1.2, 5.2.6)",
                                c->head, c->readable_len, c->writable_len, (unsigned)HDR_LEN);
    }
    struct virtio_blk_req_hdr hdr;
    virtq_chain_read(c, 0, &hdr, HDR_LEN);
    struct blk_request r = { .c = c, .sector = hdr.sector, .data_len = 0, .written = 0 };
    uint8_t status = VIRTIO_BLK_S_UNSUPP;
    for (size_t i = 0; i < sizeof(blk_requests) / sizeof(blk_requests[0]); i++) {
        if (blk_requests[i].type == hdr.type) {
            r.data_len = blk_requests[i].data_writable ? c->writable_len - 1u
                                                       : c->readable_len - (uint32_t)HDR_LEN;
            status = blk_requests[i].handle(b, &r);
            break;
        }
    }
    if (status != VIRTIO_BLK_S_OK) {
        b->errors++;
    }
    /* §5.2.6: the status is the last byte of the chain's device-writable part. */
    virtq_chain_write(c, c->writable_len - 1u, &status, 1);
    return virtio_mmio_complete(d, 0, c->head, r.written + 1u);
}

static bool blk_notify(struct virtio_mmio_dev *d, unsigned q)
{
    struct virtio_blk *b = blk_of(d);
    for (;;) {
        enum virtq_status r = virtio_mmio_next_chain(d, q, &b->chain);
        if (r != VIRTQ_OK) {
            return r == VIRTQ_EMPTY;
        }
        if (!blk_request(b, &b->chain)) {
            return false;
        }
    }
}

static const struct virtio_device_class blk_class = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .queues = blk_queues,
    .notify = blk_notify,
    .driver_ok = NULL,
    .reset = NULL,
};

bool virtio_blk_init(struct virtio_blk *b, const struct virtio_guest_mem *mem, uint8_t *disk,
                     uint64_t capacity_sectors, bool read_only, const char *serial,
                     void (*raise_irq)(void *ctx), void *irq_ctx)
{
    memset(b, 0, sizeof(*b));
    if ((disk == NULL && capacity_sectors != 0)
        || capacity_sectors > UINT64_MAX / VIRTIO_BLK_SECTOR_SIZE) {
        return false;
    }
    uint64_t features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX)
                        | (read_only ? VIRTIO_FEATURE(VIRTIO_BLK_F_RO) : 0);
    if (!virtio_mmio_init(&b->dev, &blk_class, mem, features, raise_irq, irq_ctx)) {
        return false;
    }
    b->disk = disk;
    b->capacity = capacity_sectors;
    b->read_only = read_only;
    for (size_t i = 0; serial != NULL && i < VIRTIO_BLK_ID_BYTES && serial[i] != '\0'; i++) {
        b->serial[i] = serial[i];
    }
    for (unsigned i = 0; i < 8; i++) {
        b->dev.config[VIRTIO_BLK_CONFIG_CAPACITY + i] = (uint8_t)(capacity_sectors >> (8 * i));
    }
    for (unsigned i = 0; i < 4; i++) {
        b->dev.config[VIRTIO_BLK_CONFIG_SEG_MAX + i] = (uint8_t)(VIRTIO_BLK_SEG_MAX >> (8 * i));
    }
    b->dev.config_size = VIRTIO_BLK_CONFIG_SIZE;
    return true;
}
