/* eddy's entry point: the command table and nothing else; each command lives in its part. */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "base/base.h"
#include "engine/engine.h"
#include "log/log.h"
#include "cql/cql.h"
#include "server/server.h"
#include "store/store.h"

#ifndef EDDY_VERSION
#define EDDY_VERSION "0.1.0-dev"
#endif

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
} command_t;

static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_bench(int argc, char **argv);
static int cmd_dump(int argc, char **argv);

static const command_t commands[] = {
    {"up", "run the whole stack in one process (Kafka, CQL, HTTP, pipelines)", server_main_up},
    {"cql", "a CQL shell like cqlsh, against eddy up or Cassandra", cql_main_shell},
    {"submit", "send a pipeline file to a running eddy (eddy submit FILE)", engine_main_submit},
    {"gen", "generate realistic test data (eddy gen leaves)", api_main_gen},
    {"dump", "print one of eddy's files in readable form (dump segment FILE, dump keys KS.TABLE)", cmd_dump},
    {"bench", "load generators: eddy bench cql (cassandra-stress-like)", cmd_bench},
    {"version", "print eddy's version", cmd_version},
    {"help", "show help for eddy or for a command", cmd_help},
};

static const command_t *command_find(const char *name) {
    for (size_t i = 0; i < EDDY_ARRAY_LEN(commands); i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

static void print_usage(FILE *out) {
    fprintf(out,
            "eddy: an event-driven toolkit (Kafka + Spark + Cassandra) in one program\n\n"
            "usage: eddy [--log-level LEVEL] <command> [flags]\n\ncommands:\n");
    for (size_t i = 0; i < EDDY_ARRAY_LEN(commands); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'eddy <command> --help' for a command's flags.\n");
}

static int cmd_version(int argc, char **argv) {
    if (argc > 1) {
        fprintf(stderr, "eddy version: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    printf("eddy %s\n", EDDY_VERSION);
    return 0;
}

/* `eddy dump WHAT FILE`: each part's inspector for its own formats (STYLE rule 19). */
static const command_t dump_commands[] = {
    {"segment", "a log segment (.log), index (.index, .timeindex) or producer .snapshot", log_dump_main},
    {"keys", "a table's stored rows and partitions (keys KEYSPACE.TABLE --data DIR)", store_main_dump_keys},
};

static int cmd_dump(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: eddy dump <what> FILE\n\n");
        for (size_t i = 0; i < EDDY_ARRAY_LEN(dump_commands); i++)
            fprintf(out, "  %-10s %s\n", dump_commands[i].name, dump_commands[i].summary);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < EDDY_ARRAY_LEN(dump_commands); i++)
        if (!strcmp(dump_commands[i].name, argv[1])) return dump_commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "eddy dump: unknown kind '%s' (see eddy dump --help)\n", argv[1]);
    return 2;
}

/* eddy bench KIND: each part's load generator. */
static int cmd_bench(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "cql")) return cql_main_bench(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: eddy bench cql [flags]   (eddy bench cql --help for its flags)\n");
        return 0;
    }
    fprintf(stderr, "usage: eddy bench cql [flags]\n");
    return 2;
}

static int cmd_help(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stdout);
        return 0;
    }
    const command_t *c = command_find(argv[1]);
    if (!c) {
        fprintf(stderr, "eddy help: unknown command '%s'\n", argv[1]);
        return 2;
    }
    char *args[] = {(char *)c->name, "--help", NULL};
    return c->run(2, args);
}

int main(int argc, char **argv) {
    int i = 1;
    /* Global flags before the command. */
    while (i < argc && argv[i][0] == '-') {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--version")) return cmd_version(1, argv);
        if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
            elog_level_t level;
            if (elog_level_parse(argv[i + 1], &level) != EDDY_OK) {
                fprintf(stderr, "eddy: unknown log level '%s' (error, warn, info, debug, trace)\n", argv[i + 1]);
                return 2;
            }
            elog_set_level(level);
            i += 2;
            continue;
        }
        fprintf(stderr, "eddy: unknown flag '%s'\n", argv[i]);
        print_usage(stderr);
        return 2;
    }
    if (i >= argc) {
        print_usage(stderr);
        return 2;
    }
    const command_t *c = command_find(argv[i]);
    if (!c) {
        fprintf(stderr, "eddy: unknown command '%s'\n\n", argv[i]);
        print_usage(stderr);
        return 2;
    }
    return c->run(argc - i, argv + i);
}
