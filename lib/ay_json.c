/*
 * ay_json.c - checked cJSON building; see ay_json.h.
 */
#include "ay_json.h"

#include "ay_time.h"

bool ay_json_str(cJSON *o, const char *key, const char *v)
{
    return v == NULL || cJSON_AddStringToObject(o, key, v) != NULL;
}

bool ay_json_num(cJSON *o, const char *key, double v)
{
    return cJSON_AddNumberToObject(o, key, v) != NULL;
}

bool ay_json_bool(cJSON *o, const char *key, bool v)
{
    return cJSON_AddBoolToObject(o, key, v) != NULL;
}

bool ay_json_time(cJSON *o, const char *key, int64_t us)
{
    char buf[AY_TIME_RFC3339_MAX];
    int64_t s;
    int32_t ns;

    ay_time_from_us(us, &s, &ns);
    return ay_time_format_rfc3339(s, ns, buf, sizeof(buf)) > 0 && ay_json_str(o, key, buf);
}

bool ay_json_take(cJSON *o, const char *key, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToObject(o, key, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

bool ay_json_push(cJSON *array, cJSON *item)
{
    if (item == NULL)
        return false;
    if (!cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        return false;
    }
    return true;
}

char *ay_json_print_free(cJSON *j)
{
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return text;
}
