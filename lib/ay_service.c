/*
 * ay_service.c - start-up, signals and the stop flag; see ay_service.h.
 *
 * The stop flag wakes sleepers through a self-pipe: the signal handler sets
 * the atomic and writes one byte to the pipe (both async-signal-safe);
 * ay_service_sleep_ms polls the pipe's read end, which stays readable from
 * then on because nobody reads it (a stop is never undone).
 */
#include "ay_service.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ay_escalate.h"
#include "ay_log.h"
#include "ay_sync.h"

_Static_assert(ATOMIC_BOOL_LOCK_FREE == 2, "the stop flag must be lock-free for signal handlers");

/* Signal state: the one kind of global the style guide allows. */
static atomic_bool stop_flag;
static int stop_pipe[2] = {-1, -1};

bool ay_service_stopping(void)
{
    return atomic_load_explicit(&stop_flag, memory_order_acquire);
}

void ay_service_request_stop(void)
{
    int saved = errno;
    atomic_store_explicit(&stop_flag, true, memory_order_release);
    if (stop_pipe[1] >= 0) {
        ssize_t n = write(stop_pipe[1], "x", 1);
        (void)n; /* a full pipe is already readable */
    }
    errno = saved;
}

static void on_signal(int sig)
{
    (void)sig;
    ay_service_request_stop();
}

bool ay_service_sleep_ms(int ms)
{
    int64_t until = ay_mono_deadline_us(ms);

    while (!ay_service_stopping()) {
        int left = ay_mono_left_ms(until);
        if (left <= 0)
            return true;
        if (stop_pipe[0] >= 0) {
            struct pollfd p = {.fd = stop_pipe[0], .events = POLLIN};
            (void)poll(&p, 1, left);
        } else {
            struct timespec ts = {.tv_sec = 0, .tv_nsec = (left < 50 ? left : 50) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return false;
}

int ay_service_stop_fd(void)
{
    return stop_pipe[0];
}

static int install_signals(void)
{
    struct sigaction sa;

    if (stop_pipe[0] < 0 && pipe(stop_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(stop_pipe[i], F_GETFL);
        fcntl(stop_pipe[i], F_SETFL, fl | O_NONBLOCK);
        fcntl(stop_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    /* A peer closing a socket is an error return, never a death. */
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void print_help(const struct ay_service_def *d, FILE *out)
{
    fprintf(out, "%s\n", d->usage);
    if (!d->commands) {
        fprintf(out, "Options:\n"
                     "  --config FILE        configuration file (also AY_CONFIG)\n"
                     "  --config-reference   print the configuration table as Markdown\n");
        if (d->nsql > 0)
            fprintf(out,
                    "  --check-sql          prepare every SQL statement against the database\n");
        fprintf(out, "  --help               this text\n\n");
    }
    ay_config_print_help(d->defs, d->ndefs, out);
}

/* Connects to the configured database and prepares every statement. */
static int check_sql(const struct ay_service_def *d, const struct ay_common_config *c)
{
    char err[AY_ERRLEN] = "";
    struct ay_pg *db = NULL;
    enum ay_err rc = ay_pg_new(c->database_url, 30000, &db, err);

    if (rc == AY_OK)
        rc = ay_pg_connect(db, err);
    if (rc == AY_OK)
        rc = ay_pg_prepare_all(db, ay_lib_sql, ay_lib_sql_count, err);
    if (rc == AY_OK)
        rc = ay_pg_prepare_all(db, d->sql, d->nsql, err);
    ay_pg_free(db);
    if (rc != AY_OK) {
        ay_log_fatal("cannot prepare the service's SQL", "err", err, NULL);
        return AY_EXIT_FAILURE;
    }
    printf("%s: %zu SQL statements prepared\n", d->name, d->nsql + ay_lib_sql_count);
    return AY_EXIT_OK;
}

int ay_service_start(const struct ay_service_def *d, int argc, char **argv, void *cfg, int *argi)
{
    char err[AY_ERRLEN] = "";
    const char *file = ay_config_env_file();
    enum ay_level level = AY_LOG_INFO;
    bool want_check_sql = false;
    int i = 1;

    memset(cfg, 0, d->config_size);
    ay_log_init(d->name, AY_LOG_INFO);
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(d, stdout);
            return AY_EXIT_OK;
        } else if (strcmp(argv[i], "--config-reference") == 0 && !d->commands) {
            ay_config_print_markdown(d->defs, d->ndefs, stdout);
            return AY_EXIT_OK;
        } else if (strcmp(argv[i], "--check-sql") == 0 && d->nsql > 0) {
            want_check_sql = true;
        } else {
            fprintf(stderr, "%s: unknown option %s (see --help)\n", d->name, argv[i]);
            return AY_EXIT_USAGE;
        }
    }
    if (d->commands) {
        if (i >= argc) {
            print_help(d, stderr);
            return AY_EXIT_USAGE;
        }
        *argi = i;
    } else if (i < argc) {
        fprintf(stderr, "%s: unexpected argument %s (see --help)\n", d->name, argv[i]);
        return AY_EXIT_USAGE;
    }
    if (ay_config_load(d->defs, d->ndefs, file, cfg, err) != AY_OK) {
        if (d->commands)
            fprintf(stderr, "%s: %s\n", d->name, err);
        else
            ay_log_fatal("invalid configuration", "err", err, NULL);
        return AY_EXIT_USAGE;
    }
    const struct ay_common_config *common =
        (const struct ay_common_config *)((const char *)cfg + d->common_offset);
    if (ay_log_level_parse(common->log_level, &level) != AY_OK) {
        ay_errf(err, "log_level: unknown level \"%s\" (debug, info, warn, error or fatal)",
                common->log_level ? common->log_level : "");
        if (d->commands)
            fprintf(stderr, "%s: %s\n", d->name, err);
        else
            ay_log_fatal("invalid configuration", "err", err, NULL);
        return AY_EXIT_USAGE;
    }
    ay_log_init(d->name, level);
    if (want_check_sql)
        return check_sql(d, common);
    if (install_signals() != 0) {
        ay_log_fatal("cannot install signal handlers", "err", strerror(errno), NULL);
        return AY_EXIT_FAILURE;
    }
    if (!d->commands)
        ay_config_log(d->defs, d->ndefs, cfg);
    return -1;
}

void ay_service_finish(const struct ay_service_def *d, void *cfg)
{
    ay_config_cleanup(d->defs, d->ndefs, cfg);
}

int ay_service_main(const struct ay_service_def *d, size_t nsql, int argc, char **argv, void *cfg,
                    ay_service_run_fn *run)
{
    struct ay_service_def def = *d;

    def.nsql = nsql;
    int code = ay_service_start(&def, argc, argv, cfg, NULL);
    if (code < 0)
        code = run(cfg);
    ay_service_finish(&def, cfg);
    return code;
}
