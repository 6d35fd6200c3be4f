/*
 * ayctl main.c - argument parsing, configuration and dispatch only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ay_log.h"
#include "ay_service.h"
#include "ayctl.h"

static const struct ay_config_def defs[] = {
    AY_CONFIG_COMMON_DEFS(struct ayctl_config, common),
    {"school", "AY_SCHOOL", AY_CFG_STRING, NULL, 0, 0, offsetof(struct ayctl_config, school),
     "school id this client reports for (fills header.schoolId)"},
    {"timeout_ms", "AY_TIMEOUT_MS", AY_CFG_INT, "30000", 100, 3600000,
     offsetof(struct ayctl_config, timeout_ms), "overall time to wait for a receipt or a message"},
    {"receipt_wait_ms", "AY_RECEIPT_WAIT_MS", AY_CFG_INT, "5000", 100, 600000,
     offsetof(struct ayctl_config, receipt_wait_ms),
     "re-send a message (same id) when no receipt came after this long"},
    {"wait_receipt", "AY_WAIT_RECEIPT", AY_CFG_BOOL, "true", 0, 0,
     offsetof(struct ayctl_config, wait_receipt),
     "pub: wait for the backbone's receipt (false: only the broker's acknowledgement)"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static const char usage[] =
    "usage: ayctl [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  pub TYPE --json FILE|-     publish a message given as JSON (header filled in;\n"
    "                             an alarm without triggeredAt is triggered now)\n"
    "      [--no-receipt]         do not wait for the backbone's receipt\n"
    "  sub FEED [--count N]       print arriving messages as JSON lines; FEED is\n"
    "                             alarm, escalation, receipt, ack, school or all,\n"
    "                             or --topic FILTER\n"
    "  validate TYPE --json FILE|-  check a message offline, print it normalised\n"
    "  encode TYPE --json FILE|-  print the message as protobuf bytes (for other\n"
    "                             MQTT clients, e.g. mosquitto_pub -f)\n"
    "  migrate [--status]         apply database migrations\n"
    "  registry add-district D | add-school D S | add-device S DEVICE [KIND]\n"
    "  config                     print the effective configuration\n"
    "  config-reference           print the configuration table as Markdown\n"
    "\n"
    "TYPE: alarm alarm-cancel notice report hazard hazard-update monthly status\n"
    "      receipt escalation ack\n";

void ayctl_fail(const char *fmt, ...)
{
    va_list ap;
    fputs("ayctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int ayctl_exit_code(enum ay_err rc)
{
    switch (rc) {
    case AY_OK:
        return AYCTL_EXIT_OK;
    case AY_ERR_INVALID:
    case AY_ERR_CONFIG:
        return AYCTL_EXIT_USAGE;
    default:
        return AYCTL_EXIT_FAILURE;
    }
}

void ayctl_mqtt_opts(const struct ayctl_config *cfg, char *idbuf, size_t cap,
                     struct ay_mqtt_opts *o)
{
    memset(o, 0, sizeof(*o));
    if (cfg->common.mqtt_client_id && *cfg->common.mqtt_client_id)
        snprintf(idbuf, cap, "%s", cfg->common.mqtt_client_id);
    else if (cfg->common.mqtt_username && *cfg->common.mqtt_username)
        snprintf(idbuf, cap, "%s", cfg->common.mqtt_username);
    else
        snprintf(idbuf, cap, "ayctl-%ld", (long)getpid());
    o->url = cfg->common.mqtt_url;
    o->client_id = idbuf;
    o->username = cfg->common.mqtt_username;
    o->password = cfg->common.mqtt_password;
    o->ca_file = cfg->common.mqtt_ca_file;
    o->clean_start = true;
}

static const struct ay_service_def service = {
    .name = "ayctl",
    .usage = usage,
    .defs = defs,
    .ndefs = NDEFS,
    .config_size = sizeof(struct ayctl_config),
    .common_offset = offsetof(struct ayctl_config, common),
    .commands = true,
};

int main(int argc, char **argv)
{
    struct ayctl_config cfg;
    int i = 0;
    int code = ay_service_start(&service, argc, argv, &cfg, &i);

    if (code >= 0)
        goto cleanup;
    code = AYCTL_EXIT_USAGE;
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "pub") == 0)
        code = ayctl_pub(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "sub") == 0)
        code = ayctl_sub(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "encode") == 0)
        code = ayctl_encode(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "validate") == 0)
        code = ayctl_validate(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "migrate") == 0)
        code = ayctl_migrate(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "registry") == 0)
        code = ayctl_registry(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "config") == 0) {
        ay_config_log(defs, NDEFS, &cfg);
        code = AYCTL_EXIT_OK;
    } else if (strcmp(cmd, "config-reference") == 0) {
        ay_config_print_markdown(defs, NDEFS, stdout);
        code = AYCTL_EXIT_OK;
    } else
        ayctl_fail("unknown command \"%s\" (see ayctl --help)", cmd);
cleanup:
    ay_service_finish(&service, &cfg);
    return code;
}
