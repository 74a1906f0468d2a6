/* Unit tests of the log's state beside the data: idempotent producers (duplicates, gaps,
 * fencing, state surviving restarts), the producer-id allocator, consumer-group offsets and
 * state (durability, deletion, retention, compaction), topic settings. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_test_util.h"

/* An idempotent batch of n records from producer pid/epoch starting at sequence seq. */
static void idem_batch(wr_t *w, int64_t pid, int16_t epoch, int32_t seq, int n) {
    log_record_t recs[16];
    for (int i = 0; i < n; i++) recs[i] = (log_record_t){-1, NULL, -1, "payload", 7, NULL, 0};
    log_batch_opts_t o;
    log_batch_opts_init(&o);
    o.producer_id = pid;
    o.producer_epoch = epoch;
    o.base_sequence = seq;
    wr_reset(w);
    REQUIRE_OK(log_batch_encode(w, recs, (size_t)n, &o, NULL));
}

static int append(log_partition_t *p, wr_t *w, log_append_result_t *res, log_err_t *e) {
    return log_append_wait(p, w->buf, w->len, res, e);
}

TEST(idempotent_duplicates_gaps_and_fencing) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "idem", 0, LOG_OPEN_AUTO_CREATE, &p, NULL));
    wr_t w;
    wr_init(&w, 0);
    log_append_result_t res;
    log_err_t e;

    idem_batch(&w, 7, 0, 0, 3);
    REQUIRE_OK(append(p, &w, &res, &e));
    CHECK_EQ_INT(res.base_offset, 0);
    CHECK(!res.duplicate);
    idem_batch(&w, 7, 0, 3, 2);
    REQUIRE_OK(append(p, &w, &res, &e));
    CHECK_EQ_INT(res.base_offset, 3);
    /* A retry of the first batch: success with the original offsets, nothing appended. */
    idem_batch(&w, 7, 0, 0, 3);
    REQUIRE_OK(append(p, &w, &res, &e));
    CHECK(res.duplicate);
    CHECK_EQ_INT(res.base_offset, 0);
    CHECK_EQ_INT(res.last_offset, 2);
    log_partition_state_t st;
    REQUIRE_OK(log_partition_state(p, &st));
    CHECK_EQ_INT(st.log_end_offset, 5);
    /* A gap. */
    idem_batch(&w, 7, 0, 9, 1);
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    CHECK_EQ_INT(e.reason, LOG_ERR_OUT_OF_ORDER_SEQUENCE);
    /* A sequence already passed that is not one of the kept batches. */
    idem_batch(&w, 7, 0, 1, 1);
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    CHECK_EQ_INT(e.reason, LOG_ERR_OUT_OF_ORDER_SEQUENCE);
    /* An unknown producer must start at 0. */
    idem_batch(&w, 8, 0, 5, 1);
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    CHECK_EQ_INT(e.reason, LOG_ERR_UNKNOWN_PRODUCER_ID);
    /* A new epoch starts at 0; the old epoch is then fenced. */
    idem_batch(&w, 7, 1, 4, 1);
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    CHECK_EQ_INT(e.reason, LOG_ERR_OUT_OF_ORDER_SEQUENCE);
    idem_batch(&w, 7, 1, 0, 1);
    REQUIRE_OK(append(p, &w, &res, &e));
    CHECK_EQ_INT(res.base_offset, 5);
    idem_batch(&w, 7, 0, 5, 1);
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_PRODUCER_EPOCH);
    /* Only the last 5 batches are remembered. */
    for (int i = 1; i <= 6; i++) {
        idem_batch(&w, 7, 1, i, 1);
        REQUIRE_OK(append(p, &w, &res, &e));
    }
    idem_batch(&w, 7, 1, 1, 1); /* seq 0..6 written: 1 is no longer kept */
    CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
    idem_batch(&w, 7, 1, 4, 1);
    REQUIRE_OK(append(p, &w, &res, &e));
    CHECK(res.duplicate);
    CHECK_EQ_INT(res.base_offset, 9);
    log_partition_release(p);
    log_close(log);

    /* The state survives a clean restart (snapshot) and an unclean one (replay). */
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            char marker[600];
            snprintf(marker, sizeof marker, "%s/clean-shutdown", dir);
            unlink(marker);
            char snap[700];
            snprintf(snap, sizeof snap, "%s/topics/idem/0/%020d.snapshot", dir, 12);
            unlink(snap);
        }
        log = test_log_open(dir, LOG_FSYNC_GROUP, true);
        REQUIRE_OK(log_partition_open(log, "idem", 0, 0, &p, NULL));
        idem_batch(&w, 7, 1, 5, 1);
        REQUIRE_OK(append(p, &w, &res, &e));
        CHECK(res.duplicate);
        CHECK_EQ_INT(res.base_offset, 10);
        idem_batch(&w, 7, 0, 7, 1);
        CHECK_EQ_INT(append(p, &w, &res, &e), EDDY_ERR_CONFLICT);
        CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_PRODUCER_EPOCH);
        log_partition_release(p);
        log_close(log);
    }
    wr_free(&w);
}

TEST(producer_ids_survive_restarts) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    int64_t a, b, c;
    REQUIRE_OK(log_producer_id_alloc(log, &a, NULL));
    REQUIRE_OK(log_producer_id_alloc(log, &b, NULL));
    CHECK(b > a);
    log_close(log);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    REQUIRE_OK(log_producer_id_alloc(log, &c, NULL));
    CHECK(c > b);
    /* A producer far ahead of the allocator (as after a lost file) is known to a partition. */
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "ids", 0, LOG_OPEN_AUTO_CREATE, &p, NULL));
    wr_t w;
    wr_init(&w, 0);
    idem_batch(&w, 5000, 0, 0, 1);
    REQUIRE_OK(log_append_wait(p, w.buf, w.len, NULL, NULL));
    wr_free(&w);
    log_partition_release(p);
    log_close(log);
    /* A corrupt allocator file: ids continue after every id any partition knows. */
    char path[600];
    snprintf(path, sizeof path, "%s/producer-ids", dir);
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    fputs("garbage garbage", f);
    fclose(f);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    REQUIRE_OK(log_producer_id_alloc(log, &c, NULL));
    CHECK(c > 5000);
    log_close(log);
}

static void done_cb(void *arg, int status) { *(int *)arg = status + 100; }

TEST(group_offsets_and_state_are_durable) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_group_offset_t offs[] = {
        {"orders", 1, 42, 3, "meta", 0},
        {"orders", 0, 7, -1, NULL, 0},
        {"audit", 0, 1, -1, "", 0},
    };
    int done = 0;
    REQUIRE_OK(log_group_commit_offsets(log, "g1", offs, 3, done_cb, &done, NULL));
    log_flush(log);
    CHECK_EQ_INT(done, 100);
    REQUIRE_OK(log_group_state_save(log, "g1", "blob-1", 6, false, NULL, NULL, NULL));
    REQUIRE_OK(log_group_state_save(log, "g2", "blob-2", 6, true, NULL, NULL, NULL));
    offs[0].offset = 43;
    REQUIRE_OK(log_group_commit_offsets(log, "g1", offs, 1, NULL, NULL, NULL));
    log_err_t e;
    char big[LOG_OFFSET_METADATA_MAX + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    log_group_offset_t bad = {"orders", 0, 1, -1, big, 0};
    CHECK_EQ_INT(log_group_commit_offsets(log, "g1", &bad, 1, NULL, NULL, &e), EDDY_ERR_TOO_LARGE);
    CHECK_EQ_INT(e.reason, LOG_ERR_METADATA_TOO_LARGE);
    CHECK_EQ_INT(log_group_commit_offsets(log, "", offs, 1, NULL, NULL, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_GROUP);
    log_close(log);

    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_group_offset_t *got;
    size_t n;
    REQUIRE_OK(log_group_fetch_offsets(log, "g1", NULL, &got, &n));
    REQUIRE(n == 3);
    CHECK_EQ_STR(got[0].topic, "audit");
    CHECK_EQ_STR(got[1].topic, "orders");
    CHECK_EQ_INT(got[1].partition, 0);
    CHECK_EQ_INT(got[1].offset, 7);
    CHECK_EQ_STR(got[1].metadata, "");
    CHECK_EQ_INT(got[2].offset, 43);
    CHECK_EQ_INT(got[2].leader_epoch, 3);
    CHECK_EQ_STR(got[2].metadata, "meta");
    CHECK(got[2].commit_time_ms > 0);
    eddy_free(got);
    REQUIRE_OK(log_group_fetch_offsets(log, "g1", "orders", &got, &n));
    CHECK_EQ_INT(n, 2);
    eddy_free(got);
    REQUIRE_OK(log_group_fetch_offsets(log, "nobody", NULL, &got, &n));
    CHECK_EQ_INT(n, 0);
    void *blob;
    size_t len;
    REQUIRE_OK(log_group_state_load(log, "g1", &blob, &len));
    CHECK_EQ_MEM(blob, len, "blob-1", 6);
    eddy_free(blob);
    log_group_info_t *groups;
    REQUIRE_OK(log_group_list(log, &groups, &n));
    REQUIRE(n == 2);
    CHECK_EQ_STR(groups[0].name, "g1");
    CHECK(groups[0].has_state && !groups[0].empty);
    CHECK_EQ_INT(groups[0].offsets, 3);
    CHECK(groups[1].empty);
    eddy_free(groups);
    REQUIRE_OK(log_group_delete(log, "g2", NULL, NULL, NULL));
    CHECK_EQ_INT(log_group_delete(log, "g2", NULL, NULL, &e), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_INT(e.reason, LOG_ERR_GROUP_NOT_FOUND);
    log_group_offset_t del = {"audit", 0, 0, 0, NULL, 0};
    REQUIRE_OK(log_group_delete_offsets(log, "g1", &del, 1, NULL, NULL, NULL));
    log_close(log);

    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    REQUIRE_OK(log_group_list(log, &groups, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(groups[0].offsets, 2);
    eddy_free(groups);
    CHECK_EQ_INT(log_group_state_load(log, "g2", &blob, &len), EDDY_ERR_NOT_FOUND);
    log_close(log);
}

TEST(group_offsets_expire_and_file_compacts) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_group_offset_t o = {"t", 0, 0, -1, "some metadata to make records bigger", 0};
    /* Many rewrites of a few offsets: the file grows, then compaction shrinks it. */
    for (int i = 0; i < 40000; i++) {
        o.partition = i % 4;
        o.offset = i;
        REQUIRE_OK(log_group_commit_offsets(log, "busy", &o, 1, NULL, NULL, NULL));
    }
    REQUIRE_OK(log_group_state_save(log, "busy", "s", 1, false, NULL, NULL, NULL));
    REQUIRE_OK(log_group_commit_offsets(log, "standalone", &o, 1, NULL, NULL, NULL));
    REQUIRE_OK(log_group_state_save(log, "idle", "s", 1, true, NULL, NULL, NULL));
    REQUIRE_OK(log_group_commit_offsets(log, "idle", &o, 1, NULL, NULL, NULL));
    char path[600];
    snprintf(path, sizeof path, "%s/groups.log", dir);
    struct stat st;
    REQUIRE(stat(path, &st) == 0);
    off_t before = st.st_size;
    CHECK(before > 2 << 20);
    log_maintain(log, time_now_ms());
    REQUIRE(stat(path, &st) == 0);
    CHECK(st.st_size < 4096);
    /* Eight days later: offsets of the group with members stay; standalone and empty go. */
    log_maintain(log, time_now_ms() + 8LL * 24 * 3600 * 1000);
    log_group_info_t *groups;
    size_t n;
    REQUIRE_OK(log_group_list(log, &groups, &n));
    REQUIRE(n == 1);
    CHECK_EQ_STR(groups[0].name, "busy");
    CHECK_EQ_INT(groups[0].offsets, 4);
    eddy_free(groups);
    log_close(log);
    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_group_offset_t *got;
    REQUIRE_OK(log_group_fetch_offsets(log, "busy", "t", &got, &n));
    REQUIRE(n == 4);
    CHECK_EQ_INT(got[3].offset, 39999);
    eddy_free(got);
    log_close(log);
}

TEST(topic_settings_create_alter_describe_delete) {
    const char *dir = test_tmpdir();
    log_t *log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    log_err_t e;
    log_config_entry_t bad[] = {{"retention.ms", "soon"}};
    CHECK_EQ_INT(log_topic_create(log, "a", 1, bad, 1, false, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_CONFIG);
    log_config_entry_t unknown[] = {{"no.such.setting", "1"}};
    CHECK_EQ_INT(log_topic_create(log, "a", 1, unknown, 1, false, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(log_topic_create(log, "bad/name", 1, NULL, 0, false, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_TOPIC);
    CHECK_EQ_INT(log_topic_create(log, "a", 0, NULL, 0, false, &e), EDDY_ERR_INVALID);
    CHECK_EQ_INT(e.reason, LOG_ERR_INVALID_PARTITIONS);
    log_config_entry_t cfg[] = {{"cleanup.policy", "compact"}, {"retention.ms", "-1"}};
    REQUIRE_OK(log_topic_create(log, "a", 3, cfg, 2, false, NULL));
    CHECK_EQ_INT(log_topic_create(log, "a", 1, NULL, 0, false, &e), EDDY_ERR_EXISTS);
    CHECK_EQ_INT(e.reason, LOG_ERR_TOPIC_EXISTS);
    REQUIRE_OK(log_topic_create(log, "b", 1, NULL, 0, true, NULL)); /* validate only */
    log_topic_info_t info;
    CHECK_EQ_INT(log_topic_info(log, "b", &info), EDDY_ERR_NOT_FOUND);
    REQUIRE_OK(log_topic_add_partitions(log, "a", 5, false, NULL));
    CHECK_EQ_INT(log_topic_add_partitions(log, "a", 2, false, &e), EDDY_ERR_INVALID);
    log_config_entry_t inc[] = {{"retention.ms", NULL}, {"segment.ms", "1000"}};
    REQUIRE_OK(log_topic_alter_config(log, "a", inc, 2, LOG_ALTER_INCREMENTAL, false, NULL));
    log_close(log);

    log = test_log_open(dir, LOG_FSYNC_GROUP, true);
    REQUIRE_OK(log_topic_info(log, "a", &info));
    CHECK_EQ_INT(info.partitions, 5);
    CHECK(info.id[0] || info.id[1]);
    log_config_desc_t *d;
    size_t n;
    REQUIRE_OK(log_topic_describe_config(log, "a", &d, &n, NULL));
    int found = 0;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(d[i].name, "cleanup.policy")) {
            CHECK_EQ_STR(d[i].value, "compact");
            CHECK(!d[i].is_default);
            CHECK_EQ_INT(d[i].source, LOG_CONFIG_SOURCE_TOPIC);
            found++;
        } else if (!strcmp(d[i].name, "retention.ms")) {
            CHECK_EQ_STR(d[i].value, "604800000");
            CHECK(d[i].is_default);
            found++;
        } else if (!strcmp(d[i].name, "segment.ms")) {
            CHECK_EQ_STR(d[i].value, "1000");
            found++;
        }
    }
    CHECK_EQ_INT(found, 3);
    eddy_free(d);
    log_partition_t *p;
    REQUIRE_OK(log_partition_open(log, "a", 4, 0, &p, NULL));
    log_partition_release(p);
    CHECK_EQ_INT(log_partition_open(log, "a", 5, 0, &p, &e), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_INT(e.reason, LOG_ERR_UNKNOWN_PARTITION);
    REQUIRE_OK(log_topic_delete(log, "a", NULL));
    CHECK_EQ_INT(log_topic_delete(log, "a", &e), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_INT(log_partition_open(log, "a", 0, 0, &p, &e), EDDY_ERR_NOT_FOUND);
    CHECK_EQ_INT(e.reason, LOG_ERR_UNKNOWN_TOPIC);
    /* Re-created with the same name: a new, empty topic. */
    REQUIRE_OK(log_topic_create(log, "a", 1, NULL, 0, false, NULL));
    log_topic_info_t *list;
    REQUIRE_OK(log_topic_list(log, &list, &n));
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(list[0].partitions, 1);
    eddy_free(list);
    log_maintain(log, time_now_ms());
    char deleted[600];
    snprintf(deleted, sizeof deleted, "%s/deleted", dir);
    CHECK(rmdir(deleted) == 0); /* empty: the old files are gone */
    log_close(log);
}
