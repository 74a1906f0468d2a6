/* Tests of the catalog as it is read back from disk: a definition that could not have been
 * written (a key that does not match its name, a column id twice, key positions out of order,
 * no partition key, a column id beyond the bounds) is refused as corrupt, and a sound one builds. */
#include "store/store_test_util.h"

#define KS "{\"name\":\"ks\",\"durable_writes\":true,\"replication\":{\"class\":\"SimpleStrategy\"}}"
#define COL(name, type, kind, pos, id)                                                                  \
    "{\"name\":\"" name "\",\"type\":\"" type "\",\"kind\":\"" kind "\",\"order\":\"none\",\"position\":" \
    #pos ",\"id\":" #id "}"
#define TABLE(cols)                                                                                          \
    "{\"keyspace\":\"ks\",\"name\":\"t\",\"uuid\":\"d196ec96-ea40-11f1-963d-2a42ee8db4f1\",\"id\":1,\"version\":1," \
    "\"next_column_id\":3,\"columns\":[" cols "]}"

/* Builds a schema from one keyspace record and one table record; returns the status. */
static int build(const char *ks_key, const char *table_json) {
    store_rec_t recs[2] = {{eddy_strdup(ks_key), eddy_strdup(KS)}, {eddy_strdup("t/ks/t"), eddy_strdup(table_json)}};
    store_schema_t *s = NULL;
    char err[256];
    int rc = store_schema_build(recs, 2, NULL, &s, err, sizeof err);
    if (rc == EDDY_OK) store_schema_release(s);
    for (int i = 0; i < 2; i++) {
        eddy_free(recs[i].key);
        eddy_free(recs[i].json);
    }
    return rc;
}

TEST(store_catalog_refuses_impossible_definitions) {
    CHECK_EQ_INT(build("k/ks", TABLE(COL("k", "int", "partition_key", 0, 0) "," COL("c", "int", "clustering", 0, 1) ","
                                         COL("v", "text", "regular", -1, 2))),
                 EDDY_OK);
    /* the keyspace record's key names another keyspace */
    CHECK_EQ_INT(build("k/other", TABLE(COL("k", "int", "partition_key", 0, 0))), EDDY_ERR_CORRUPT);
    /* a column id twice */
    CHECK_EQ_INT(build("k/ks", TABLE(COL("k", "int", "partition_key", 0, 0) "," COL("v", "text", "regular", -1, 0))),
                 EDDY_ERR_CORRUPT);
    /* partition key positions 0 and 2 */
    CHECK_EQ_INT(build("k/ks", TABLE(COL("a", "int", "partition_key", 0, 0) "," COL("b", "int", "partition_key", 2, 1))),
                 EDDY_ERR_CORRUPT);
    /* no partition key */
    CHECK_EQ_INT(build("k/ks", TABLE(COL("v", "text", "regular", -1, 0))), EDDY_ERR_CORRUPT);
    /* a column id past the bound (would size the id table at 4 GB, or wrap it to nothing) */
    CHECK_EQ_INT(build("k/ks", TABLE(COL("k", "int", "partition_key", 0, 4294967295))), EDDY_ERR_CORRUPT);
}
