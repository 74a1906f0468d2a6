/* The schema registry's queries: subjects, versions, schemas by id, lookups, configs and
 * compatibility tests, answered from the durable state under the registry's mutex with
 * Confluent's bodies and error codes. The state and its mutations are in registry.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_int.h"

static void reg_write_schema_fields(wr_t *body, const char *subject, int32_t version, uint32_t id, const char *text) {
    wr_str(body, "{\"subject\":");
    json_write_string(body, subject, strlen(subject));
    wr_fmt(body, ",\"version\":%d,\"id\":%u,\"schema\":", version, id);
    json_write_string(body, text, strlen(text));
    wr_u8(body, '}');
}

static int reg_subject_not_found(wr_t *body, const char *subject) {
    api_registry_error(body, 40401, "Subject '%s' not found.", subject);
    return 404;
}

/* A subject that exists for a read: has versions (live ones, unless deleted is asked). */
static api_reg_subject_t *reg_subject_visible(api_registry_t *reg, const char *subject, bool deleted) {
    api_reg_subject_t *s = api_reg_subject_find(reg, subject);
    if (!s || s->nversions == 0) return NULL;
    if (!deleted && api_reg_live_count(s) == 0) return NULL;
    return s;
}

/* Resolves "latest", "-1" or a number to a version; returns the HTTP status (200 with *out). */
static int reg_resolve_version(api_reg_subject_t *s, const char *version, bool deleted, api_reg_version_t **out, wr_t *body) {
    if (!strcmp(version, "latest") || !strcmp(version, "-1")) {
        *out = api_reg_latest(s, deleted);
    } else {
        char *end;
        long x = strtol(version, &end, 10);
        if (!*version || *end || x < 1 || x > INT32_MAX) {
            api_registry_error(body, 42202,
                               "The specified version '%s' is not a valid version id. Allowed values are between "
                               "[1, 2^31-1] and the string \"latest\"",
                               version);
            return 422;
        }
        *out = api_reg_version_find(s, (int32_t)x);
        if (*out && (*out)->deleted && !deleted) *out = NULL;
    }
    if (!*out) {
        api_registry_error(body, 40402, "Version %s not found.", version);
        return 404;
    }
    return 200;
}

int api_registry_list_subjects(api_registry_t *reg, bool deleted, wr_t *body) {
    pthread_mutex_lock(&reg->mu);
    /* Sorted, as Confluent lists them. */
    const char **names = eddy_calloc(reg->nsubjects + 1, sizeof *names);
    uint32_t n = 0;
    for (uint32_t i = 0; names && i < reg->nsubjects; i++)
        if (reg_subject_visible(reg, reg->subjects[i].name, deleted)) names[n++] = reg->subjects[i].name;
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *t = names[j];
            names[j] = names[j - 1];
            names[j - 1] = t;
        }
    wr_u8(body, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i) wr_u8(body, ',');
        json_write_string(body, names[i], strlen(names[i]));
    }
    wr_u8(body, ']');
    eddy_free(names);
    pthread_mutex_unlock(&reg->mu);
    return 200;
}

int api_registry_list_versions(api_registry_t *reg, const char *subject, bool deleted, wr_t *body) {
    pthread_mutex_lock(&reg->mu);
    int status = 200;
    api_reg_subject_t *s = reg_subject_visible(reg, subject, deleted);
    if (!s) {
        status = reg_subject_not_found(body, subject);
    } else {
        wr_u8(body, '[');
        bool first = true;
        for (uint32_t i = 0; i < s->nversions; i++) {
            if (s->versions[i].deleted && !deleted) continue;
            wr_fmt(body, "%s%d", first ? "" : ",", s->versions[i].version);
            first = false;
        }
        wr_u8(body, ']');
    }
    pthread_mutex_unlock(&reg->mu);
    return status;
}

int api_registry_get_version(api_registry_t *reg, const char *subject, const char *version, bool deleted,
                             bool schema_only, wr_t *body) {
    pthread_mutex_lock(&reg->mu);
    int status;
    api_reg_version_t *v = NULL;
    api_reg_subject_t *s = reg_subject_visible(reg, subject, deleted);
    if (!s) status = reg_subject_not_found(body, subject);
    else status = reg_resolve_version(s, version, deleted, &v, body);
    if (status == 200) {
        api_reg_schema_t *sc = api_reg_schema_by_id(reg, v->id);
        if (!sc) {
            api_registry_error(body, 40403, "Schema %u not found", v->id);
            status = 404;
        } else if (schema_only) {
            wr_str(body, sc->schema->text);
        } else {
            reg_write_schema_fields(body, subject, v->version, v->id, sc->schema->text);
        }
    }
    pthread_mutex_unlock(&reg->mu);
    return status;
}

/* A schema is served by id while some version (live or soft-deleted) names it. */
static bool reg_id_referenced(api_registry_t *reg, uint32_t id) {
    for (uint32_t i = 0; i < reg->nsubjects; i++)
        for (uint32_t k = 0; k < reg->subjects[i].nversions; k++)
            if (reg->subjects[i].versions[k].id == id) return true;
    return false;
}

int api_registry_get_schema(api_registry_t *reg, uint32_t id, bool versions, wr_t *body) {
    pthread_mutex_lock(&reg->mu);
    int status = 200;
    api_reg_schema_t *sc = api_reg_schema_by_id(reg, id);
    if (!sc || !reg_id_referenced(reg, id)) {
        api_registry_error(body, 40403, "Schema %u not found", id);
        status = 404;
    } else if (versions) {
        wr_u8(body, '[');
        bool first = true;
        for (uint32_t i = 0; i < reg->nsubjects; i++)
            for (uint32_t k = 0; k < reg->subjects[i].nversions; k++) {
                const api_reg_version_t *v = &reg->subjects[i].versions[k];
                if (v->id != id || v->deleted) continue;
                if (!first) wr_u8(body, ',');
                first = false;
                wr_str(body, "{\"subject\":");
                json_write_string(body, reg->subjects[i].name, strlen(reg->subjects[i].name));
                wr_fmt(body, ",\"version\":%d}", v->version);
            }
        wr_u8(body, ']');
    } else {
        wr_str(body, "{\"schema\":");
        json_write_string(body, sc->schema->text, sc->schema->text_len);
        wr_u8(body, '}');
    }
    pthread_mutex_unlock(&reg->mu);
    return status;
}

int api_registry_lookup(api_registry_t *reg, const char *subject, const char *schema, size_t len, bool deleted,
                        wr_t *body) {
    api_avro_schema_t *cand = NULL;
    char err[512];
    if (api_avro_schema_parse(schema, len, &cand, err, sizeof err) != EDDY_OK) {
        api_registry_error(body, 42201, "Invalid schema: %s", err);
        return 422;
    }
    pthread_mutex_lock(&reg->mu);
    int status;
    api_reg_subject_t *s = reg_subject_visible(reg, subject, deleted);
    if (!s) {
        status = reg_subject_not_found(body, subject);
    } else {
        status = 404;
        for (uint32_t i = s->nversions; i > 0; i--) {
            const api_reg_version_t *v = &s->versions[i - 1];
            api_reg_schema_t *sc = api_reg_schema_by_id(reg, v->id);
            if ((v->deleted && !deleted) || !sc || strcmp(sc->schema->text, cand->text)) continue;
            reg_write_schema_fields(body, subject, v->version, v->id, sc->schema->text);
            status = 200;
            break;
        }
        if (status == 404) api_registry_error(body, 40403, "Schema not found");
    }
    pthread_mutex_unlock(&reg->mu);
    api_avro_schema_free(cand);
    return status;
}

int api_registry_get_config(api_registry_t *reg, const char *subject, bool default_to_global, wr_t *body) {
    pthread_mutex_lock(&reg->mu);
    int status = 200, level = reg->global_level;
    if (subject) {
        api_reg_subject_t *s = api_reg_subject_find(reg, subject);
        if (s && s->level >= 0) {
            level = s->level;
        } else if (!default_to_global) {
            api_registry_error(body, 40408, "Subject '%s' does not have subject-level compatibility configured", subject);
            status = 404;
        }
    }
    if (status == 200) wr_fmt(body, "{\"compatibilityLevel\":\"%s\"}", api_compat_name(level));
    pthread_mutex_unlock(&reg->mu);
    return status;
}

int api_registry_test_compat(api_registry_t *reg, const char *subject, const char *version, const char *schema,
                             size_t len, bool verbose, wr_t *body) {
    api_avro_schema_t *cand = NULL;
    char err[512];
    if (api_avro_schema_parse(schema, len, &cand, err, sizeof err) != EDDY_OK) {
        api_registry_error(body, 42201, "Invalid schema: %s", err);
        return 422;
    }
    pthread_mutex_lock(&reg->mu);
    int status = 200;
    api_reg_subject_t *s = reg_subject_visible(reg, subject, false);
    if (!s && version) {
        status = reg_subject_not_found(body, subject);
    } else {
        int level = api_reg_level_of(reg, s);
        wr_t detail;
        wr_init(&detail, 128);
        bool ok;
        if (version && s) {
            api_reg_version_t *v = NULL;
            status = reg_resolve_version(s, version, false, &v, body);
            ok = true;
            if (status == 200) {
                /* Against one version: the level's direction, not its transitivity. */
                api_reg_subject_t one = {s->name, v, 1, 1, level};
                ok = api_reg_check_compat(reg, &one, cand, level, &detail, subject);
            }
        } else {
            ok = api_reg_check_compat(reg, s, cand, level, &detail, subject);
        }
        if (status == 200) {
            wr_str(body, ok ? "{\"is_compatible\":true" : "{\"is_compatible\":false");
            if (verbose) {
                wr_str(body, ",\"messages\":[");
                if (!ok && detail.len) {
                    /* detail holds an error body; keep its message */
                    json_doc_t d;
                    json_doc_init(&d);
                    int64_t m;
                    if (json_parse(&d, (char *)detail.buf, detail.len) == EDDY_OK && (m = json_object_get(&d, 0, "message", 7)) >= 0)
                        json_write_node(body, &d, (uint32_t)m);
                    json_doc_free(&d);
                }
                wr_u8(body, ']');
            }
            wr_u8(body, '}');
        }
        wr_free(&detail);
    }
    pthread_mutex_unlock(&reg->mu);
    api_avro_schema_free(cand);
    return status;
}

int api_registry_schema_id_for(api_registry_t *reg, const char *subject, const char *schema, size_t len, uint32_t *id) {
    api_avro_schema_t *cand = NULL;
    if (api_avro_schema_parse(schema, len, &cand, NULL, 0) != EDDY_OK) return EDDY_ERR_INVALID;
    pthread_mutex_lock(&reg->mu);
    int rc = EDDY_ERR_NOT_FOUND;
    api_reg_subject_t *s = api_reg_subject_find(reg, subject);
    for (uint32_t i = 0; s && i < s->nversions; i++) {
        api_reg_schema_t *sc = api_reg_schema_by_id(reg, s->versions[i].id);
        if (!s->versions[i].deleted && sc && !strcmp(sc->schema->text, cand->text)) {
            *id = sc->id;
            rc = EDDY_OK;
        }
    }
    pthread_mutex_unlock(&reg->mu);
    api_avro_schema_free(cand);
    return rc;
}
