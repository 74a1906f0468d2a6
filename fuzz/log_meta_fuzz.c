/* Fuzz target: the log's metadata files as they are read back at open: a topic's `topic` file
 * (id, partition count, config overrides as lines of key=value) and the consumer groups'
 * groups.log (records of committed offsets and coordinator state). Record payloads get valid
 * lengths and CRCs from the harness, so that the fuzzer reaches the record parser rather than
 * the checksum. Whatever the bytes, the log opens or refuses with an error, and whatever it
 * loads can be listed and read.
 * Input: [u16 topic file length][topic file][then group records: u16 payload length, payload]. */
#include "log_fuzz_util.h"

/* groups.log: the magic, then each payload framed as [u32 length][u32 crc32c]. */
static void write_groups(const char *path, const uint8_t *p, size_t n) {
    wr_t w;
    wr_init(&w, 64 + n * 2);
    wr_bytes(&w, "EDDYGRP1", 8);
    while (n >= 2) {
        size_t len = load_u16(p);
        p += 2, n -= 2;
        if (len > n) len = n;
        wr_u32(&w, (uint32_t)len);
        wr_u32(&w, crc32c(p, len));
        wr_bytes(&w, p, len);
        p += len, n -= len;
    }
    log_fuzz_put_file(path, w.buf, w.len);
    wr_free(&w);
}

static void read_back(log_t *log) {
    log_topic_info_t *topics;
    size_t nt;
    if (log_topic_list(log, &topics, &nt) == EDDY_OK) {
        for (size_t i = 0; i < nt; i++) {
            log_config_desc_t *desc;
            size_t nd;
            if (log_topic_describe_config(log, topics[i].name, &desc, &nd, NULL) == EDDY_OK) eddy_free(desc);
        }
        eddy_free(topics);
    }
    log_group_info_t *groups;
    size_t ng;
    if (log_group_list(log, &groups, &ng) != EDDY_OK) return;
    for (size_t i = 0; i < ng; i++) {
        log_group_offset_t *offs;
        size_t no;
        if (log_group_fetch_offsets(log, groups[i].name, NULL, &offs, &no) == EDDY_OK) eddy_free(offs);
        void *blob;
        size_t bl;
        if (log_group_state_load(log, groups[i].name, &blob, &bl) == EDDY_OK) eddy_free(blob);
    }
    eddy_free(groups);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    size_t tlen = load_u16(data);
    if (tlen > size - 2) tlen = size - 2;
    char dir[256], path[512];
    log_fuzz_fresh_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/topics/t/topic", dir);
    log_fuzz_put_file(path, data + 2, tlen);
    snprintf(path, sizeof path, "%s/groups.log", dir);
    write_groups(path, data + 2 + tlen, size - 2 - tlen);

    log_t *log = log_fuzz_open(dir);
    if (!log) return 0;
    read_back(log);
    log_close(log);
    return 0;
}
