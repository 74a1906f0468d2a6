/* kafka: every message the broker reads or writes, declared once.
 *
 * Each message (and each struct nested in one) is an X-macro list of fields written as
 *     F(M, TYPE, name, first_version, last_version, options...)
 * transcribed from apache/kafka clients/src/main/resources/common/message/<Name>.json (field
 * names in snake_case, nested struct names as the spec spells them). The same list generates
 * the C struct a handler reads or fills (below) and the schema table the one codec walks
 * (kafka_schema.c), so a field and its version range are written exactly once, for every version.
 * Fields that exist only beyond the highest version eddy advertises (kafka_api.c) are left out.
 *
 * TYPE is BOOL, INT8, INT16, INT32, INT64, UUID, STRING, BYTES, RECORDS, ARRAY_INT32,
 * ARRAY_INT64, ARRAY_STRING, ARRAY(Sub) or STRUCT(Sub). Options: NULLABLE(v) (nullable from
 * version v), DEFAULT(x) (value when the version lacks the field), TAGGED(t) (a tagged field
 * with tag t in flexible versions). KMAX means "every later version". */
#ifndef EDDY_KAFKA_MSG_H
#define EDDY_KAFKA_MSG_H

#include <stdbool.h>
#include <stdint.h>

#define KMAX 127

/* A string or bytes on the wire: a view into the request buffer (or memory the encoder's caller
 * keeps alive until the response is written). len < 0 means null. */
typedef struct {
    const char *ptr;
    int32_t len;
} kafka_str_t;

typedef struct {
    const uint8_t *ptr;
    int32_t len;
} kafka_bytes_t;

/* A RecordBatch sequence. Decoded: a view into the request (ptr, len; len < 0 is null).
 * Encoded: len bytes that are either ptr's memory, or, when ext is set, a piece the caller
 * writes itself (a file range sent with sendfile); the encoder writes the length and records a
 * splice point (kafka_out_t) instead of copying. */
typedef struct {
    const uint8_t *ptr;
    int32_t len;
    const void *ext;
} kafka_records_t;

typedef struct {
    uint8_t b[16];
} kafka_uuid_t;

#define KAFKA_ARRAY_OF(T) struct { int32_t count; T *items; } /* count < 0: null */

/* ---- request and response headers ---------------------------------------------------------- */

/* client_id is never compact, even in header v2 (RequestHeader.json: flexibleVersions none). */
#define KAFKA_RequestHeader(F, M)                  \
    F(M, INT16, request_api_key, 0, KMAX)          \
    F(M, INT16, request_api_version, 0, KMAX)      \
    F(M, INT32, correlation_id, 0, KMAX)           \
    F(M, STRING, client_id, 1, KMAX, NULLABLE(1))

#define KAFKA_ResponseHeader(F, M) F(M, INT32, correlation_id, 0, KMAX)

/* ---- ApiVersions (18) ---------------------------------------------------------------------- */

#define KAFKA_ApiVersionsRequest(F, M)             \
    F(M, STRING, client_software_name, 3, KMAX)    \
    F(M, STRING, client_software_version, 3, KMAX)

#define KAFKA_ApiVersion(F, M)           \
    F(M, INT16, api_key, 0, KMAX)        \
    F(M, INT16, min_version, 0, KMAX)    \
    F(M, INT16, max_version, 0, KMAX)

#define KAFKA_ApiVersionsResponse(F, M)                  \
    F(M, INT16, error_code, 0, KMAX)                     \
    F(M, ARRAY(ApiVersion), api_keys, 0, KMAX)           \
    F(M, INT32, throttle_time_ms, 1, KMAX)               \
    F(M, INT64, finalized_features_epoch, 3, KMAX, TAGGED(1), DEFAULT(-1))

/* ---- Produce (0) --------------------------------------------------------------------------- */

#define KAFKA_PartitionProduceData(F, M) \
    F(M, INT32, index, 0, KMAX)          \
    F(M, RECORDS, records, 0, KMAX, NULLABLE(0))

#define KAFKA_TopicProduceData(F, M)   \
    F(M, STRING, name, 0, KMAX)        \
    F(M, ARRAY(PartitionProduceData), partition_data, 0, KMAX)

#define KAFKA_ProduceRequest(F, M)                                \
    F(M, STRING, transactional_id, 3, KMAX, NULLABLE(3))          \
    F(M, INT16, acks, 0, KMAX)                                    \
    F(M, INT32, timeout_ms, 0, KMAX)                              \
    F(M, ARRAY(TopicProduceData), topic_data, 0, KMAX)

#define KAFKA_BatchIndexAndErrorMessage(F, M) \
    F(M, INT32, batch_index, 8, KMAX)         \
    F(M, STRING, batch_index_error_message, 8, KMAX, NULLABLE(8))

#define KAFKA_PartitionProduceResponse(F, M)                         \
    F(M, INT32, index, 0, KMAX)                                      \
    F(M, INT16, error_code, 0, KMAX)                                 \
    F(M, INT64, base_offset, 0, KMAX)                                \
    F(M, INT64, log_append_time_ms, 2, KMAX, DEFAULT(-1))            \
    F(M, INT64, log_start_offset, 5, KMAX, DEFAULT(-1))              \
    F(M, ARRAY(BatchIndexAndErrorMessage), record_errors, 8, KMAX)   \
    F(M, STRING, error_message, 8, KMAX, NULLABLE(8))

#define KAFKA_TopicProduceResponse(F, M) \
    F(M, STRING, name, 0, KMAX)          \
    F(M, ARRAY(PartitionProduceResponse), partition_responses, 0, KMAX)

#define KAFKA_ProduceResponse(F, M)                           \
    F(M, ARRAY(TopicProduceResponse), responses, 0, KMAX)     \
    F(M, INT32, throttle_time_ms, 1, KMAX)

/* ---- Fetch (1) ----------------------------------------------------------------------------- */

#define KAFKA_FetchPartition(F, M)                               \
    F(M, INT32, partition, 0, KMAX)                              \
    F(M, INT32, current_leader_epoch, 9, KMAX, DEFAULT(-1))      \
    F(M, INT64, fetch_offset, 0, KMAX)                           \
    F(M, INT64, log_start_offset, 5, KMAX, DEFAULT(-1))          \
    F(M, INT32, partition_max_bytes, 0, KMAX)

#define KAFKA_FetchTopic(F, M)  \
    F(M, STRING, topic, 0, 12)  \
    F(M, ARRAY(FetchPartition), partitions, 0, KMAX)

#define KAFKA_ForgottenTopic(F, M) \
    F(M, STRING, topic, 7, 12)     \
    F(M, ARRAY_INT32, partitions, 7, KMAX)

#define KAFKA_FetchRequest(F, M)                                 \
    F(M, INT32, replica_id, 0, 14, DEFAULT(-1))                  \
    F(M, INT32, max_wait_ms, 0, KMAX)                            \
    F(M, INT32, min_bytes, 0, KMAX)                              \
    F(M, INT32, max_bytes, 3, KMAX, DEFAULT(0x7fffffff))         \
    F(M, INT8, isolation_level, 4, KMAX)                         \
    F(M, INT32, session_id, 7, KMAX)                             \
    F(M, INT32, session_epoch, 7, KMAX, DEFAULT(-1))             \
    F(M, ARRAY(FetchTopic), topics, 0, KMAX)                     \
    F(M, ARRAY(ForgottenTopic), forgotten_topics_data, 7, KMAX)  \
    F(M, STRING, rack_id, 11, KMAX)

#define KAFKA_AbortedTransaction(F, M) \
    F(M, INT64, producer_id, 4, KMAX)  \
    F(M, INT64, first_offset, 4, KMAX)

#define KAFKA_PartitionData(F, M)                                            \
    F(M, INT32, partition_index, 0, KMAX)                                    \
    F(M, INT16, error_code, 0, KMAX)                                         \
    F(M, INT64, high_watermark, 0, KMAX)                                     \
    F(M, INT64, last_stable_offset, 4, KMAX, DEFAULT(-1))                    \
    F(M, INT64, log_start_offset, 5, KMAX, DEFAULT(-1))                      \
    F(M, ARRAY(AbortedTransaction), aborted_transactions, 4, KMAX, NULLABLE(4)) \
    F(M, INT32, preferred_read_replica, 11, KMAX, DEFAULT(-1))               \
    F(M, RECORDS, records, 0, KMAX, NULLABLE(0))

#define KAFKA_FetchableTopicResponse(F, M) \
    F(M, STRING, topic, 0, 12)             \
    F(M, ARRAY(PartitionData), partitions, 0, KMAX)

#define KAFKA_FetchResponse(F, M)                                \
    F(M, INT32, throttle_time_ms, 1, KMAX)                       \
    F(M, INT16, error_code, 7, KMAX)                             \
    F(M, INT32, session_id, 7, KMAX)                             \
    F(M, ARRAY(FetchableTopicResponse), responses, 0, KMAX)

/* ---- ListOffsets (2) ----------------------------------------------------------------------- */

#define KAFKA_ListOffsetsPartition(F, M)                         \
    F(M, INT32, partition_index, 0, KMAX)                        \
    F(M, INT32, current_leader_epoch, 4, KMAX, DEFAULT(-1))      \
    F(M, INT64, timestamp, 0, KMAX)                              \
    F(M, INT32, max_num_offsets, 0, 0, DEFAULT(1))

#define KAFKA_ListOffsetsTopic(F, M) \
    F(M, STRING, name, 0, KMAX)      \
    F(M, ARRAY(ListOffsetsPartition), partitions, 0, KMAX)

#define KAFKA_ListOffsetsRequest(F, M)    \
    F(M, INT32, replica_id, 0, KMAX)      \
    F(M, INT8, isolation_level, 2, KMAX)  \
    F(M, ARRAY(ListOffsetsTopic), topics, 0, KMAX)

#define KAFKA_ListOffsetsPartitionResponse(F, M)          \
    F(M, INT32, partition_index, 0, KMAX)                 \
    F(M, INT16, error_code, 0, KMAX)                      \
    F(M, ARRAY_INT64, old_style_offsets, 0, 0)            \
    F(M, INT64, timestamp, 1, KMAX, DEFAULT(-1))          \
    F(M, INT64, offset, 1, KMAX, DEFAULT(-1))             \
    F(M, INT32, leader_epoch, 4, KMAX, DEFAULT(-1))

#define KAFKA_ListOffsetsTopicResponse(F, M) \
    F(M, STRING, name, 0, KMAX)              \
    F(M, ARRAY(ListOffsetsPartitionResponse), partitions, 0, KMAX)

#define KAFKA_ListOffsetsResponse(F, M)     \
    F(M, INT32, throttle_time_ms, 2, KMAX)  \
    F(M, ARRAY(ListOffsetsTopicResponse), topics, 0, KMAX)

/* ---- Metadata (3) -------------------------------------------------------------------------- */

#define KAFKA_MetadataRequestTopic(F, M) \
    F(M, UUID, topic_id, 10, KMAX)       \
    F(M, STRING, name, 0, KMAX, NULLABLE(10))

#define KAFKA_MetadataRequest(F, M)                                          \
    F(M, ARRAY(MetadataRequestTopic), topics, 0, KMAX, NULLABLE(1))          \
    F(M, BOOL, allow_auto_topic_creation, 4, KMAX, DEFAULT(1))               \
    F(M, BOOL, include_cluster_authorized_operations, 8, 10)                 \
    F(M, BOOL, include_topic_authorized_operations, 8, KMAX)

#define KAFKA_MetadataResponseBroker(F, M) \
    F(M, INT32, node_id, 0, KMAX)          \
    F(M, STRING, host, 0, KMAX)            \
    F(M, INT32, port, 0, KMAX)             \
    F(M, STRING, rack, 1, KMAX, NULLABLE(1))

#define KAFKA_MetadataResponsePartition(F, M)            \
    F(M, INT16, error_code, 0, KMAX)                     \
    F(M, INT32, partition_index, 0, KMAX)                \
    F(M, INT32, leader_id, 0, KMAX)                      \
    F(M, INT32, leader_epoch, 7, KMAX, DEFAULT(-1))      \
    F(M, ARRAY_INT32, replica_nodes, 0, KMAX)            \
    F(M, ARRAY_INT32, isr_nodes, 0, KMAX)                \
    F(M, ARRAY_INT32, offline_replicas, 5, KMAX)

#define KAFKA_MetadataResponseTopic(F, M)                                    \
    F(M, INT16, error_code, 0, KMAX)                                         \
    F(M, STRING, name, 0, KMAX, NULLABLE(12))                                \
    F(M, UUID, topic_id, 10, KMAX)                                           \
    F(M, BOOL, is_internal, 1, KMAX)                                         \
    F(M, ARRAY(MetadataResponsePartition), partitions, 0, KMAX)              \
    F(M, INT32, topic_authorized_operations, 8, KMAX, DEFAULT(INT32_MIN))

#define KAFKA_MetadataResponse(F, M)                                         \
    F(M, INT32, throttle_time_ms, 3, KMAX)                                   \
    F(M, ARRAY(MetadataResponseBroker), brokers, 0, KMAX)                    \
    F(M, STRING, cluster_id, 2, KMAX, NULLABLE(2))                           \
    F(M, INT32, controller_id, 1, KMAX, DEFAULT(-1))                         \
    F(M, ARRAY(MetadataResponseTopic), topics, 0, KMAX)                      \
    F(M, INT32, cluster_authorized_operations, 8, 10, DEFAULT(INT32_MIN))

/* ---- OffsetCommit (8) ---------------------------------------------------------------------- */

#define KAFKA_OffsetCommitRequestPartition(F, M)                     \
    F(M, INT32, partition_index, 0, KMAX)                            \
    F(M, INT64, committed_offset, 0, KMAX)                           \
    F(M, INT32, committed_leader_epoch, 6, KMAX, DEFAULT(-1))        \
    F(M, INT64, commit_timestamp, 1, 1, DEFAULT(-1))                 \
    F(M, STRING, committed_metadata, 0, KMAX, NULLABLE(0))

#define KAFKA_OffsetCommitRequestTopic(F, M) \
    F(M, STRING, name, 0, KMAX)              \
    F(M, ARRAY(OffsetCommitRequestPartition), partitions, 0, KMAX)

#define KAFKA_OffsetCommitRequest(F, M)                              \
    F(M, STRING, group_id, 0, KMAX)                                  \
    F(M, INT32, generation_id, 1, KMAX, DEFAULT(-1))                 \
    F(M, STRING, member_id, 1, KMAX)                                 \
    F(M, STRING, group_instance_id, 7, KMAX, NULLABLE(7))            \
    F(M, INT64, retention_time_ms, 2, 4, DEFAULT(-1))                \
    F(M, ARRAY(OffsetCommitRequestTopic), topics, 0, KMAX)

#define KAFKA_OffsetCommitResponsePartition(F, M) \
    F(M, INT32, partition_index, 0, KMAX)         \
    F(M, INT16, error_code, 0, KMAX)

#define KAFKA_OffsetCommitResponseTopic(F, M) \
    F(M, STRING, name, 0, KMAX)               \
    F(M, ARRAY(OffsetCommitResponsePartition), partitions, 0, KMAX)

#define KAFKA_OffsetCommitResponse(F, M)    \
    F(M, INT32, throttle_time_ms, 3, KMAX)  \
    F(M, ARRAY(OffsetCommitResponseTopic), topics, 0, KMAX)

/* ---- OffsetFetch (9) ----------------------------------------------------------------------- */

#define KAFKA_OffsetFetchRequestTopic(F, M) \
    F(M, STRING, name, 0, 7)                \
    F(M, ARRAY_INT32, partition_indexes, 0, 7)

#define KAFKA_OffsetFetchRequest(F, M)                                       \
    F(M, STRING, group_id, 0, 7)                                             \
    F(M, ARRAY(OffsetFetchRequestTopic), topics, 0, 7, NULLABLE(2))          \
    F(M, BOOL, require_stable, 7, KMAX)

#define KAFKA_OffsetFetchResponsePartition(F, M)                     \
    F(M, INT32, partition_index, 0, 7)                               \
    F(M, INT64, committed_offset, 0, 7)                              \
    F(M, INT32, committed_leader_epoch, 5, 7, DEFAULT(-1))           \
    F(M, STRING, metadata, 0, 7, NULLABLE(0))                        \
    F(M, INT16, error_code, 0, 7)

#define KAFKA_OffsetFetchResponseTopic(F, M) \
    F(M, STRING, name, 0, 7)                 \
    F(M, ARRAY(OffsetFetchResponsePartition), partitions, 0, 7)

#define KAFKA_OffsetFetchResponse(F, M)                      \
    F(M, INT32, throttle_time_ms, 3, KMAX)                   \
    F(M, ARRAY(OffsetFetchResponseTopic), topics, 0, 7)      \
    F(M, INT16, error_code, 2, 7)

/* ---- FindCoordinator (10) ------------------------------------------------------------------ */

#define KAFKA_FindCoordinatorRequest(F, M) \
    F(M, STRING, key, 0, 3)                \
    F(M, INT8, key_type, 1, KMAX)

#define KAFKA_FindCoordinatorResponse(F, M)                  \
    F(M, INT32, throttle_time_ms, 1, KMAX)                   \
    F(M, INT16, error_code, 0, 3)                            \
    F(M, STRING, error_message, 1, 3, NULLABLE(1))           \
    F(M, INT32, node_id, 0, 3)                               \
    F(M, STRING, host, 0, 3)                                 \
    F(M, INT32, port, 0, 3)

/* ---- JoinGroup (11) ------------------------------------------------------------------------ */

#define KAFKA_JoinGroupRequestProtocol(F, M) \
    F(M, STRING, name, 0, KMAX)              \
    F(M, BYTES, metadata, 0, KMAX)

#define KAFKA_JoinGroupRequest(F, M)                                 \
    F(M, STRING, group_id, 0, KMAX)                                  \
    F(M, INT32, session_timeout_ms, 0, KMAX)                         \
    F(M, INT32, rebalance_timeout_ms, 1, KMAX, DEFAULT(-1))          \
    F(M, STRING, member_id, 0, KMAX)                                 \
    F(M, STRING, group_instance_id, 5, KMAX, NULLABLE(5))            \
    F(M, STRING, protocol_type, 0, KMAX)                             \
    F(M, ARRAY(JoinGroupRequestProtocol), protocols, 0, KMAX)

#define KAFKA_JoinGroupResponseMember(F, M)                  \
    F(M, STRING, member_id, 0, KMAX)                         \
    F(M, STRING, group_instance_id, 5, KMAX, NULLABLE(5))    \
    F(M, BYTES, metadata, 0, KMAX)

#define KAFKA_JoinGroupResponse(F, M)                                \
    F(M, INT32, throttle_time_ms, 2, KMAX)                           \
    F(M, INT16, error_code, 0, KMAX)                                 \
    F(M, INT32, generation_id, 0, KMAX, DEFAULT(-1))                 \
    F(M, STRING, protocol_name, 0, KMAX, NULLABLE(7))                \
    F(M, STRING, leader, 0, KMAX)                                    \
    F(M, STRING, member_id, 0, KMAX)                                 \
    F(M, ARRAY(JoinGroupResponseMember), members, 0, KMAX)

/* ---- Heartbeat (12), LeaveGroup (13), SyncGroup (14) --------------------------------------- */

#define KAFKA_HeartbeatRequest(F, M)                         \
    F(M, STRING, group_id, 0, KMAX)                          \
    F(M, INT32, generation_id, 0, KMAX)                      \
    F(M, STRING, member_id, 0, KMAX)                         \
    F(M, STRING, group_instance_id, 3, KMAX, NULLABLE(3))

#define KAFKA_HeartbeatResponse(F, M)       \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, INT16, error_code, 0, KMAX)

#define KAFKA_MemberIdentity(F, M)                           \
    F(M, STRING, member_id, 3, KMAX)                         \
    F(M, STRING, group_instance_id, 3, KMAX, NULLABLE(3))

#define KAFKA_LeaveGroupRequest(F, M)   \
    F(M, STRING, group_id, 0, KMAX)     \
    F(M, STRING, member_id, 0, 2)       \
    F(M, ARRAY(MemberIdentity), members, 3, KMAX)

#define KAFKA_MemberResponse(F, M)                           \
    F(M, STRING, member_id, 3, KMAX)                         \
    F(M, STRING, group_instance_id, 3, KMAX, NULLABLE(3))    \
    F(M, INT16, error_code, 3, KMAX)

#define KAFKA_LeaveGroupResponse(F, M)      \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, INT16, error_code, 0, KMAX)        \
    F(M, ARRAY(MemberResponse), members, 3, KMAX)

#define KAFKA_SyncGroupRequestAssignment(F, M) \
    F(M, STRING, member_id, 0, KMAX)           \
    F(M, BYTES, assignment, 0, KMAX)

#define KAFKA_SyncGroupRequest(F, M)                             \
    F(M, STRING, group_id, 0, KMAX)                              \
    F(M, INT32, generation_id, 0, KMAX)                          \
    F(M, STRING, member_id, 0, KMAX)                             \
    F(M, STRING, group_instance_id, 3, KMAX, NULLABLE(3))        \
    F(M, ARRAY(SyncGroupRequestAssignment), assignments, 0, KMAX)

#define KAFKA_SyncGroupResponse(F, M)       \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, INT16, error_code, 0, KMAX)        \
    F(M, BYTES, assignment, 0, KMAX)

/* ---- DescribeGroups (15), ListGroups (16), DeleteGroups (42) ------------------------------- */

#define KAFKA_DescribeGroupsRequest(F, M)    \
    F(M, ARRAY_STRING, groups, 0, KMAX)      \
    F(M, BOOL, include_authorized_operations, 3, KMAX)

#define KAFKA_DescribedGroupMember(F, M)                     \
    F(M, STRING, member_id, 0, KMAX)                         \
    F(M, STRING, group_instance_id, 4, KMAX, NULLABLE(4))    \
    F(M, STRING, client_id, 0, KMAX)                         \
    F(M, STRING, client_host, 0, KMAX)                       \
    F(M, BYTES, member_metadata, 0, KMAX)                    \
    F(M, BYTES, member_assignment, 0, KMAX)

#define KAFKA_DescribedGroup(F, M)                                   \
    F(M, INT16, error_code, 0, KMAX)                                 \
    F(M, STRING, group_id, 0, KMAX)                                  \
    F(M, STRING, group_state, 0, KMAX)                               \
    F(M, STRING, protocol_type, 0, KMAX)                             \
    F(M, STRING, protocol_data, 0, KMAX)                             \
    F(M, ARRAY(DescribedGroupMember), members, 0, KMAX)              \
    F(M, INT32, authorized_operations, 3, KMAX, DEFAULT(INT32_MIN))

#define KAFKA_DescribeGroupsResponse(F, M)  \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, ARRAY(DescribedGroup), groups, 0, KMAX)

#define KAFKA_ListGroupsRequest(F, M) F(M, ARRAY_STRING, states_filter, 4, KMAX)

#define KAFKA_ListedGroup(F, M)          \
    F(M, STRING, group_id, 0, KMAX)      \
    F(M, STRING, protocol_type, 0, KMAX) \
    F(M, STRING, group_state, 4, KMAX)

#define KAFKA_ListGroupsResponse(F, M)      \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, INT16, error_code, 0, KMAX)        \
    F(M, ARRAY(ListedGroup), groups, 0, KMAX)

#define KAFKA_DeleteGroupsRequest(F, M) F(M, ARRAY_STRING, groups_names, 0, KMAX)

#define KAFKA_DeletableGroupResult(F, M) \
    F(M, STRING, group_id, 0, KMAX)      \
    F(M, INT16, error_code, 0, KMAX)

#define KAFKA_DeleteGroupsResponse(F, M)    \
    F(M, INT32, throttle_time_ms, 0, KMAX)  \
    F(M, ARRAY(DeletableGroupResult), results, 0, KMAX)

/* ---- CreateTopics (19), DeleteTopics (20), CreatePartitions (37) --------------------------- */

#define KAFKA_CreatableReplicaAssignment(F, M) \
    F(M, INT32, partition_index, 0, KMAX)      \
    F(M, ARRAY_INT32, broker_ids, 0, KMAX)

#define KAFKA_CreatableTopicConfig(F, M) \
    F(M, STRING, name, 0, KMAX)          \
    F(M, STRING, value, 0, KMAX, NULLABLE(0))

#define KAFKA_CreatableTopic(F, M)                                   \
    F(M, STRING, name, 0, KMAX)                                      \
    F(M, INT32, num_partitions, 0, KMAX)                             \
    F(M, INT16, replication_factor, 0, KMAX)                         \
    F(M, ARRAY(CreatableReplicaAssignment), assignments, 0, KMAX)    \
    F(M, ARRAY(CreatableTopicConfig), configs, 0, KMAX)

#define KAFKA_CreateTopicsRequest(F, M)                  \
    F(M, ARRAY(CreatableTopic), topics, 0, KMAX)         \
    F(M, INT32, timeout_ms, 0, KMAX, DEFAULT(60000))     \
    F(M, BOOL, validate_only, 1, KMAX)

#define KAFKA_CreatableTopicResult(F, M)                 \
    F(M, STRING, name, 0, KMAX)                          \
    F(M, INT16, error_code, 0, KMAX)                     \
    F(M, STRING, error_message, 1, KMAX, NULLABLE(0))

#define KAFKA_CreateTopicsResponse(F, M)    \
    F(M, INT32, throttle_time_ms, 2, KMAX)  \
    F(M, ARRAY(CreatableTopicResult), topics, 0, KMAX)

#define KAFKA_DeleteTopicsRequest(F, M)       \
    F(M, ARRAY_STRING, topic_names, 0, 5)     \
    F(M, INT32, timeout_ms, 0, KMAX)

#define KAFKA_DeletableTopicResult(F, M)                 \
    F(M, STRING, name, 0, KMAX, NULLABLE(6))             \
    F(M, INT16, error_code, 0, KMAX)                     \
    F(M, STRING, error_message, 5, KMAX, NULLABLE(5))

#define KAFKA_DeleteTopicsResponse(F, M)    \
    F(M, INT32, throttle_time_ms, 1, KMAX)  \
    F(M, ARRAY(DeletableTopicResult), responses, 0, KMAX)

#define KAFKA_CreatePartitionsAssignment(F, M) F(M, ARRAY_INT32, broker_ids, 0, KMAX)

#define KAFKA_CreatePartitionsTopic(F, M)  \
    F(M, STRING, name, 0, KMAX)            \
    F(M, INT32, count, 0, KMAX)            \
    F(M, ARRAY(CreatePartitionsAssignment), assignments, 0, KMAX, NULLABLE(0))

#define KAFKA_CreatePartitionsRequest(F, M)              \
    F(M, ARRAY(CreatePartitionsTopic), topics, 0, KMAX)  \
    F(M, INT32, timeout_ms, 0, KMAX)                     \
    F(M, BOOL, validate_only, 0, KMAX)

#define KAFKA_CreatePartitionsTopicResult(F, M)  \
    F(M, STRING, name, 0, KMAX)                  \
    F(M, INT16, error_code, 0, KMAX)             \
    F(M, STRING, error_message, 0, KMAX, NULLABLE(0))

#define KAFKA_CreatePartitionsResponse(F, M) \
    F(M, INT32, throttle_time_ms, 0, KMAX)   \
    F(M, ARRAY(CreatePartitionsTopicResult), results, 0, KMAX)

/* ---- InitProducerId (22) ------------------------------------------------------------------- */

#define KAFKA_InitProducerIdRequest(F, M)                    \
    F(M, STRING, transactional_id, 0, KMAX, NULLABLE(0))     \
    F(M, INT32, transaction_timeout_ms, 0, KMAX)             \
    F(M, INT64, producer_id, 3, KMAX, DEFAULT(-1))           \
    F(M, INT16, producer_epoch, 3, KMAX, DEFAULT(-1))

#define KAFKA_InitProducerIdResponse(F, M)           \
    F(M, INT32, throttle_time_ms, 0, KMAX)           \
    F(M, INT16, error_code, 0, KMAX)                 \
    F(M, INT64, producer_id, 0, KMAX, DEFAULT(-1))   \
    F(M, INT16, producer_epoch, 0, KMAX)

/* ---- DescribeConfigs (32), AlterConfigs (33) ----------------------------------------------- */

#define KAFKA_DescribeConfigsResource(F, M)  \
    F(M, INT8, resource_type, 0, KMAX)       \
    F(M, STRING, resource_name, 0, KMAX)     \
    F(M, ARRAY_STRING, configuration_keys, 0, KMAX, NULLABLE(0))

#define KAFKA_DescribeConfigsRequest(F, M)                   \
    F(M, ARRAY(DescribeConfigsResource), resources, 0, KMAX) \
    F(M, BOOL, include_synonyms, 1, KMAX)                    \
    F(M, BOOL, include_documentation, 3, KMAX)

#define KAFKA_DescribeConfigsSynonym(F, M)           \
    F(M, STRING, name, 1, KMAX)                      \
    F(M, STRING, value, 1, KMAX, NULLABLE(0))        \
    F(M, INT8, source, 1, KMAX)

#define KAFKA_DescribeConfigsResourceResult(F, M)                    \
    F(M, STRING, name, 0, KMAX)                                      \
    F(M, STRING, value, 0, KMAX, NULLABLE(0))                        \
    F(M, BOOL, read_only, 0, KMAX)                                   \
    F(M, BOOL, is_default, 0, 0)                                     \
    F(M, INT8, config_source, 1, KMAX, DEFAULT(-1))                  \
    F(M, BOOL, is_sensitive, 0, KMAX)                                \
    F(M, ARRAY(DescribeConfigsSynonym), synonyms, 1, KMAX)           \
    F(M, INT8, config_type, 3, KMAX)                                 \
    F(M, STRING, documentation, 3, KMAX, NULLABLE(0))

#define KAFKA_DescribeConfigsResult(F, M)                            \
    F(M, INT16, error_code, 0, KMAX)                                 \
    F(M, STRING, error_message, 0, KMAX, NULLABLE(0))                \
    F(M, INT8, resource_type, 0, KMAX)                               \
    F(M, STRING, resource_name, 0, KMAX)                             \
    F(M, ARRAY(DescribeConfigsResourceResult), configs, 0, KMAX)

#define KAFKA_DescribeConfigsResponse(F, M) \
    F(M, INT32, throttle_time_ms, 0, KMAX)  \
    F(M, ARRAY(DescribeConfigsResult), results, 0, KMAX)

#define KAFKA_AlterableConfig(F, M) \
    F(M, STRING, name, 0, KMAX)     \
    F(M, STRING, value, 0, KMAX, NULLABLE(0))

#define KAFKA_AlterConfigsResource(F, M)  \
    F(M, INT8, resource_type, 0, KMAX)    \
    F(M, STRING, resource_name, 0, KMAX)  \
    F(M, ARRAY(AlterableConfig), configs, 0, KMAX)

#define KAFKA_AlterConfigsRequest(F, M)                      \
    F(M, ARRAY(AlterConfigsResource), resources, 0, KMAX)    \
    F(M, BOOL, validate_only, 0, KMAX)

#define KAFKA_AlterConfigsResourceResponse(F, M)         \
    F(M, INT16, error_code, 0, KMAX)                     \
    F(M, STRING, error_message, 0, KMAX, NULLABLE(0))    \
    F(M, INT8, resource_type, 0, KMAX)                   \
    F(M, STRING, resource_name, 0, KMAX)

#define KAFKA_AlterConfigsResponse(F, M)    \
    F(M, INT32, throttle_time_ms, 0, KMAX)  \
    F(M, ARRAY(AlterConfigsResourceResponse), responses, 0, KMAX)

/* ---- DescribeCluster (60) ------------------------------------------------------------------ */

#define KAFKA_DescribeClusterRequest(F, M) F(M, BOOL, include_cluster_authorized_operations, 0, KMAX)

#define KAFKA_DescribeClusterBroker(F, M) \
    F(M, INT32, broker_id, 0, KMAX)       \
    F(M, STRING, host, 0, KMAX)           \
    F(M, INT32, port, 0, KMAX)            \
    F(M, STRING, rack, 0, KMAX, NULLABLE(0))

#define KAFKA_DescribeClusterResponse(F, M)                          \
    F(M, INT32, throttle_time_ms, 0, KMAX)                           \
    F(M, INT16, error_code, 0, KMAX)                                 \
    F(M, STRING, error_message, 0, KMAX, NULLABLE(0))                \
    F(M, STRING, cluster_id, 0, KMAX)                                \
    F(M, INT32, controller_id, 0, KMAX, DEFAULT(-1))                 \
    F(M, ARRAY(DescribeClusterBroker), brokers, 0, KMAX)             \
    F(M, INT32, cluster_authorized_operations, 0, KMAX, DEFAULT(INT32_MIN))

/* ---- every struct, nested ones before the structs that hold them --------------------------- */

#define KAFKA_ALL_MESSAGES(X)                                                                    \
    X(RequestHeader) X(ResponseHeader)                                                           \
    X(ApiVersionsRequest) X(ApiVersion) X(ApiVersionsResponse)                                   \
    X(PartitionProduceData) X(TopicProduceData) X(ProduceRequest)                                \
    X(BatchIndexAndErrorMessage) X(PartitionProduceResponse) X(TopicProduceResponse)             \
    X(ProduceResponse)                                                                           \
    X(FetchPartition) X(FetchTopic) X(ForgottenTopic) X(FetchRequest)                            \
    X(AbortedTransaction) X(PartitionData) X(FetchableTopicResponse) X(FetchResponse)            \
    X(ListOffsetsPartition) X(ListOffsetsTopic) X(ListOffsetsRequest)                            \
    X(ListOffsetsPartitionResponse) X(ListOffsetsTopicResponse) X(ListOffsetsResponse)           \
    X(MetadataRequestTopic) X(MetadataRequest)                                                   \
    X(MetadataResponseBroker) X(MetadataResponsePartition) X(MetadataResponseTopic)              \
    X(MetadataResponse)                                                                          \
    X(OffsetCommitRequestPartition) X(OffsetCommitRequestTopic) X(OffsetCommitRequest)           \
    X(OffsetCommitResponsePartition) X(OffsetCommitResponseTopic) X(OffsetCommitResponse)        \
    X(OffsetFetchRequestTopic) X(OffsetFetchRequest)                                             \
    X(OffsetFetchResponsePartition) X(OffsetFetchResponseTopic) X(OffsetFetchResponse)           \
    X(FindCoordinatorRequest) X(FindCoordinatorResponse)                                         \
    X(JoinGroupRequestProtocol) X(JoinGroupRequest)                                              \
    X(JoinGroupResponseMember) X(JoinGroupResponse)                                              \
    X(HeartbeatRequest) X(HeartbeatResponse)                                                     \
    X(MemberIdentity) X(LeaveGroupRequest) X(MemberResponse) X(LeaveGroupResponse)               \
    X(SyncGroupRequestAssignment) X(SyncGroupRequest) X(SyncGroupResponse)                       \
    X(DescribeGroupsRequest) X(DescribedGroupMember) X(DescribedGroup)                           \
    X(DescribeGroupsResponse)                                                                    \
    X(ListGroupsRequest) X(ListedGroup) X(ListGroupsResponse)                                    \
    X(DeleteGroupsRequest) X(DeletableGroupResult) X(DeleteGroupsResponse)                       \
    X(CreatableReplicaAssignment) X(CreatableTopicConfig) X(CreatableTopic)                      \
    X(CreateTopicsRequest) X(CreatableTopicResult) X(CreateTopicsResponse)                       \
    X(DeleteTopicsRequest) X(DeletableTopicResult) X(DeleteTopicsResponse)                       \
    X(CreatePartitionsAssignment) X(CreatePartitionsTopic) X(CreatePartitionsRequest)            \
    X(CreatePartitionsTopicResult) X(CreatePartitionsResponse)                                   \
    X(InitProducerIdRequest) X(InitProducerIdResponse)                                           \
    X(DescribeConfigsResource) X(DescribeConfigsRequest) X(DescribeConfigsSynonym)               \
    X(DescribeConfigsResourceResult) X(DescribeConfigsResult) X(DescribeConfigsResponse)         \
    X(AlterableConfig) X(AlterConfigsResource) X(AlterConfigsRequest)                            \
    X(AlterConfigsResourceResponse) X(AlterConfigsResponse)                                      \
    X(DescribeClusterRequest) X(DescribeClusterBroker) X(DescribeClusterResponse)

/* ---- the C structs ------------------------------------------------------------------------- */

#define KAFKA_CT_BOOL bool
#define KAFKA_CT_INT8 int8_t
#define KAFKA_CT_INT16 int16_t
#define KAFKA_CT_INT32 int32_t
#define KAFKA_CT_INT64 int64_t
#define KAFKA_CT_UUID kafka_uuid_t
#define KAFKA_CT_STRING kafka_str_t
#define KAFKA_CT_BYTES kafka_bytes_t
#define KAFKA_CT_RECORDS kafka_records_t
#define KAFKA_CT_ARRAY_INT32 KAFKA_ARRAY_OF(int32_t)
#define KAFKA_CT_ARRAY_INT64 KAFKA_ARRAY_OF(int64_t)
#define KAFKA_CT_ARRAY_STRING KAFKA_ARRAY_OF(kafka_str_t)
#define KAFKA_CT_ARRAY(Sub) KAFKA_ARRAY_OF(struct kafka_##Sub)
#define KAFKA_CT_STRUCT(Sub) struct kafka_##Sub

#define KAFKA_STRUCT_FIELD(M, type, name, lo, hi, ...) KAFKA_CT_##type name;
#define KAFKA_STRUCT_DECLARE(M) \
    typedef struct kafka_##M { KAFKA_##M(KAFKA_STRUCT_FIELD, M) } kafka_##M##_t;
KAFKA_ALL_MESSAGES(KAFKA_STRUCT_DECLARE)
#undef KAFKA_STRUCT_DECLARE
#undef KAFKA_STRUCT_FIELD

#endif
