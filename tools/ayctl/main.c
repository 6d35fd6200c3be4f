/*
 * ayctl main.c - argument parsing, configuration and dispatch only.
 */
#include <stdio.h>
#include <string.h>

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
    {"audience", "AY_AUDIENCE", AY_CFG_STRING, "bureau", 0, 0,
     offsetof(struct ayctl_config, audience),
     "watch, ack: the account's audience (police, bureau or government; school: a device "
     "of the configured school)"},
    {"broker_admin_url", "AY_BROKER_ADMIN_URL", AY_CFG_STRING, NULL, 0, 0,
     offsetof(struct ayctl_config, broker_admin_url),
     "device, account: broker URL of the dynsec admin connection (default: mqtt_url)"},
    {"broker_admin_username", "AY_BROKER_ADMIN_USERNAME", AY_CFG_STRING, "admin", 0, 0,
     offsetof(struct ayctl_config, broker_admin_username),
     "device, account: the broker's dynsec admin account"},
    {"broker_admin_password_file", "AY_BROKER_ADMIN_PASSWORD_FILE", AY_CFG_STRING, NULL, 0, 0,
     offsetof(struct ayctl_config, broker_admin_password_file),
     "device, account: file whose first line is the admin password (var/broker/secrets/admin.pw)"},
    {"broker_admin_batch_ms", "AY_BROKER_ADMIN_BATCH_MS", AY_CFG_INT, "250", 10, 60000,
     offsetof(struct ayctl_config, broker_admin_batch_ms),
     "device, account: size dynsec requests so the broker spends about this long on each"},
    {"profile_host", "AY_PROFILE_HOST", AY_CFG_STRING, NULL, 0, 0,
     offsetof(struct ayctl_config, profile_host),
     "device, account: broker host name given to devices (default: host of the admin URL)"},
    {"profile_mqtts_port", "AY_PROFILE_MQTTS_PORT", AY_CFG_INT, "8883", 0, 65535,
     offsetof(struct ayctl_config, profile_mqtts_port),
     "device, account: MQTT over TLS port given to devices (0: none)"},
    {"profile_ws_port", "AY_PROFILE_WS_PORT", AY_CFG_INT, "0", 0, 65535,
     offsetof(struct ayctl_config, profile_ws_port),
     "device, account: MQTT over WebSocket port given to devices (0: none)"},
    {"profile_mqtt_port", "AY_PROFILE_MQTT_PORT", AY_CFG_INT, "0", 0, 65535,
     offsetof(struct ayctl_config, profile_mqtt_port),
     "device, account: plain MQTT port given to devices (0: none; labs only)"},
    {"profile_ca_file", "AY_PROFILE_CA_FILE", AY_CFG_STRING, NULL, 0, 0,
     offsetof(struct ayctl_config, profile_ca_file),
     "device, account: CA certificate devices verify the broker with (default: mqtt_ca_file)"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

static const char usage[] =
    "usage: ayctl [--config FILE] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  pub TYPE --json FILE|-     publish a message given as JSON (header filled in;\n"
    "                             an alarm without triggeredAt is triggered now)\n"
    "      [--no-receipt]         do not wait for the backbone's receipt\n"
    "      [--wire json]          send it as JSON (content type application/json);\n"
    "                             its receipt comes back as JSON\n"
    "  sub FEED [--count N]       print arriving messages as JSON lines; FEED is\n"
    "                             alarm (police feed), raw-alarm, raw-alarm-cancel,\n"
    "                             escalation, receipt, ack, school or all,\n"
    "                             or --topic FILTER\n"
    "      [--wire json]          alarm, escalation: read the feed's JSON twin\n"
    "  validate TYPE --json FILE|-  check a message offline, print it normalised\n"
    "  encode TYPE --json FILE|-  print the message as protobuf bytes (for other\n"
    "                             MQTT clients, e.g. mosquitto_pub -f); --wire json:\n"
    "                             the one line of JSON that would be sent\n"
    "  migrate [--status]         apply database migrations\n"
    "  registry add-district D | add-school D S | add-device S DEVICE [KIND]\n"
    "      | set-school S [--address T] [--phone P] | set-device DEVICE [--location T]\n"
    "        [--geo LAT,LON] [--place NAME] [--heartbeat S]  what the police feed shows\n"
    "  policy show [--district D]  print the district's effective policy as JSON\n"
    "  policy set KEY VALUE [--district D]\n"
    "                             change one key (dotted path: written_report,\n"
    "                             chains.bureau[0].ack_timeout, routing.SEVERITY_II);\n"
    "                             VALUE is JSON if it parses as JSON, else a string\n"
    "  policy import FILE|- [--district D]  replace the policy document\n"
    "\n"
    "Devices and accounts (registry and broker account together; README\n"
    "\"Devices: onboarding\"):\n"
    "  device add --school S --kind K --location TEXT [--geo LAT,LON] [--shop NAME]\n"
    "      [--heartbeat 60s] [--id DEVICE] [--profile FILE]\n"
    "                             register a device and make its account; prints its\n"
    "                             secret (once) and connection profile\n"
    "  device import FILE|- [--school S] (--secrets FILE | --profiles DIR)\n"
    "                             add every device of a CSV file, all or nothing\n"
    "  device list [--school S] [--district D] [--json] | device show DEVICE [--json]\n"
    "  device disable|enable|remove DEVICE  cut off (at once), allow again, delete\n"
    "  device rotate DEVICE [--profile FILE]  a new secret; the old one stops working\n"
    "  account add --role police|bureau|government|service [--district D] NAME\n"
    "      [--conf FILE]          a person's or service's account; prints its secret\n"
    "  account list | account disable|enable|rotate|remove NAME\n"
    "\n"
    "For police, bureau and government staff, and schools through their devices\n"
    "(audience school; text in Chinese; --lang en: English):\n"
    "  watch [--audience A] [--count N] [--lang en] [--json]\n"
    "                             print each escalation of your audience as a line\n"
    "  ack ESCALATION_ID STATE [--note TEXT] [--by NAME] [--audience A] [--no-receipt]\n"
    "      [--wire json]\n"
    "                             acknowledge: STATE is received, dispatched,\n"
    "                             on-scene, resolved or false-alarm; prints the receipt\n"
    "  deadlines [--district D] [--school S] [--all] [--lang en]\n"
    "                             open deadlines per school (--all: also those met or\n"
    "                             cancelled in the last 30 days)\n"
    "  history ID [--lang en]     everything about one incident, alarm, hazard or\n"
    "                             escalation, in time order\n"
    "  devices [--school S | --all] [--district D] [--lang en] [--json]\n"
    "                             each button: online or offline, last heartbeat,\n"
    "                             battery, tamper, fault, last test\n"
    "  compliance --month YYYY-MM [--district D] [--csv] [--lang en]\n"
    "                             per school of the district: reports on time, late\n"
    "                             or missing, hazards, alarms, escalations acknowledged\n"
    "                             (--csv: UTF-8 with BOM, CRLF, for a spreadsheet)\n"
    "\n"
    "For devices and integrators:\n"
    "  heartbeat [--interval S] [--count N] [--battery PERCENT] [--keepalive S]\n"
    "                             be a supervised device: a last will, ONLINE, then a\n"
    "                             heartbeat every S seconds (default 60) until stopped;\n"
    "                             after a lost connection it connects again with a new\n"
    "                             will (a fresh message id) and says ONLINE again\n"
    "\n"
    "  config                     print the effective configuration\n"
    "  config-reference           print the configuration table as Markdown\n"
    "\n"
    "TYPE: alarm alarm-cancel notice report hazard hazard-update monthly status\n"
    "      receipt escalation ack\n";

static const struct ay_service_def service = {
    .name = "ayctl",
    .usage = usage,
    .defs = defs,
    .ndefs = NDEFS,
    .config_size = sizeof(struct ayctl_config),
    .common_offset = offsetof(struct ayctl_config, common),
    .commands = true,
};

/* The commands, each run with its own argv (argv[0] is the command). */
static const struct {
    const char *name;
    int (*run)(const struct ayctl_config *cfg, int argc, char **argv);
} commands[] = {
    {"pub", ayctl_pub},
    {"sub", ayctl_sub},
    {"encode", ayctl_encode},
    {"validate", ayctl_validate},
    {"migrate", ayctl_migrate},
    {"registry", ayctl_registry},
    {"policy", ayctl_policy},
    {"watch", ayctl_watch},
    {"ack", ayctl_ack},
    {"deadlines", ayctl_deadlines},
    {"history", ayctl_history},
    {"devices", ayctl_devices},
    {"heartbeat", ayctl_heartbeat},
    {"compliance", ayctl_compliance},
    {"device", ayctl_device},
    {"account", ayctl_account},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

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
    for (size_t c = 0; c < NCOMMANDS; c++)
        if (strcmp(cmd, commands[c].name) == 0) {
            code = commands[c].run(&cfg, sub_argc, sub_argv);
            goto cleanup;
        }
    if (strcmp(cmd, "config") == 0) {
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
