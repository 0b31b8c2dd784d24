/* scripts/bench_sdbus.c — the limit for scripts/bench: a minimal C client on sd-bus doing the
 * same bus work as each measured rustemd-shell verb, and printing a comparable amount.
 *
 *   bench_sdbus reads N          open the bus, introspect the manager once (as the shell and
 *                                pystemd must, to resolve m.Manager.Version), then N property reads;
 *                                N = 0 opens nothing (the process floor)
 *   bench_sdbus get-property     one Properties.Get of Manager.Version, printed as busctl does
 *   bench_sdbus call UNIT        one Manager.GetUnit, the object path printed as busctl does
 *   bench_sdbus introspect PATH  Introspect, then GetAll for each interface (busctl's work)
 *   bench_sdbus tree             every object of systemd from /, one Introspect after another
 *                                (busctl's algorithm), the paths printed
 *   bench_sdbus list             ListNames + ListActivatableNames, then GetConnectionUnixProcessID
 *                                for each name
 *
 * Built by scripts/bench: cc -O2 bench_sdbus.c $(pkg-config --cflags --libs libsystemd).
 * It checks every error (a failure exits 1 with sd-bus's words) and leaks nothing per read.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define SD "org.freedesktop.systemd1"
#define MANAGER "/org/freedesktop/systemd1"
#define IFACE "org.freedesktop.systemd1.Manager"

static int die(const char *what, int r, const sd_bus_error *e) {
    fprintf(stderr, "bench_sdbus: %s: %s\n", what, e && e->message ? e->message : strerror(-r));
    exit(1);
}

static sd_bus *open_bus(void) {
    sd_bus *bus = NULL;
    int r = sd_bus_open_system(&bus);
    if (r < 0) die("open", r, NULL);
    return bus;
}

static char *introspect(sd_bus *bus, const char *path) {
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    const char *xml;
    int r = sd_bus_call_method(bus, SD, path, "org.freedesktop.DBus.Introspectable", "Introspect",
                               &e, &m, "");
    if (r < 0) die("Introspect", r, &e);
    r = sd_bus_message_read(m, "s", &xml);
    if (r < 0) die("Introspect reply", r, NULL);
    char *copy = strdup(xml);
    sd_bus_message_unref(m);
    return copy;
}

/* The value of attribute `name` in the tag starting at `tag`, copied into buf. */
static int attr(const char *tag, const char *name, char *buf, size_t len) {
    const char *end = strchr(tag, '>');
    char key[64];
    snprintf(key, sizeof key, "%s=\"", name);
    const char *v = strstr(tag, key);
    if (!v || (end && v > end)) return 0;
    v += strlen(key);
    const char *q = strchr(v, '"');
    if (!q || (size_t)(q - v) >= len) return 0;
    memcpy(buf, v, q - v);
    buf[q - v] = 0;
    return 1;
}

static void reads(long n) {
    if (n == 0) return;
    sd_bus *bus = open_bus();
    free(introspect(bus, MANAGER));
    for (long i = 0; i < n; i++) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *v = NULL;
        int r = sd_bus_get_property_string(bus, SD, MANAGER, IFACE, "Version", &e, &v);
        if (r < 0) die("Get", r, &e);
        free(v);
    }
    sd_bus_flush_close_unref(bus);
}

static void get_property(void) {
    sd_bus *bus = open_bus();
    sd_bus_error e = SD_BUS_ERROR_NULL;
    char *v = NULL;
    int r = sd_bus_get_property_string(bus, SD, MANAGER, IFACE, "Version", &e, &v);
    if (r < 0) die("Get", r, &e);
    printf("s \"%s\"\n", v);
    free(v);
    sd_bus_flush_close_unref(bus);
}

static void call(const char *unit) {
    sd_bus *bus = open_bus();
    sd_bus_error e = SD_BUS_ERROR_NULL;
    sd_bus_message *m = NULL;
    const char *path;
    int r = sd_bus_call_method(bus, SD, MANAGER, IFACE, "GetUnit", &e, &m, "s", unit);
    if (r < 0) die("GetUnit", r, &e);
    r = sd_bus_message_read(m, "o", &path);
    if (r < 0) die("GetUnit reply", r, NULL);
    printf("o \"%s\"\n", path);
    sd_bus_message_unref(m);
    sd_bus_flush_close_unref(bus);
}

/* Print one GetAll reply (a{sv}) generically: name, type, and value via sd-bus's own dump. */
static void introspect_object(const char *path) {
    sd_bus *bus = open_bus();
    char *xml = introspect(bus, path);
    char name[256];
    for (const char *p = strstr(xml, "<interface "); p; p = strstr(p + 1, "<interface ")) {
        if (!attr(p, "name", name, sizeof name)) continue;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        int r = sd_bus_call_method(bus, SD, path, "org.freedesktop.DBus.Properties", "GetAll", &e,
                                   &m, "s", name);
        if (r < 0) die("GetAll", r, &e);
        printf("%s\n", name);
        r = sd_bus_message_dump(m, stdout, SD_BUS_MESSAGE_DUMP_SUBTREE_ONLY);
        if (r < 0) die("dump", r, NULL);
        sd_bus_message_unref(m);
    }
    free(xml);
    sd_bus_flush_close_unref(bus);
}

static int cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void tree(void) {
    sd_bus *bus = open_bus();
    size_t cap = 1024, todo_n = 0, done_n = 0;
    char **todo = malloc(cap * sizeof *todo), **done = malloc(cap * sizeof *done);
    todo[todo_n++] = strdup("/");
    while (todo_n) {
        char *path = todo[--todo_n];
        char *xml = introspect(bus, path);
        char name[1024];
        for (const char *p = strstr(xml, "<node "); p; p = strstr(p + 1, "<node ")) {
            if (!attr(p, "name", name, sizeof name)) continue;
            char *child;
            if (asprintf(&child, "%s/%s", strcmp(path, "/") ? path : "", name) < 0) exit(1);
            if (todo_n == cap || done_n == cap) {
                cap *= 2;
                todo = realloc(todo, cap * sizeof *todo);
                done = realloc(done, cap * sizeof *done);
            }
            todo[todo_n++] = child;
        }
        free(xml);
        if (done_n == cap) {
            cap *= 2;
            todo = realloc(todo, cap * sizeof *todo);
            done = realloc(done, cap * sizeof *done);
        }
        done[done_n++] = path;
    }
    qsort(done, done_n, sizeof *done, cmp);
    for (size_t i = 0; i < done_n; i++) {
        printf("%s\n", done[i]);
        free(done[i]);
    }
    free(todo);
    free(done);
    sd_bus_flush_close_unref(bus);
}

static void list(void) {
    sd_bus *bus = open_bus();
    const char *calls[] = {"ListNames", "ListActivatableNames"};
    for (int c = 0; c < 2; c++) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        sd_bus_message *m = NULL;
        int r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", calls[c], &e, &m, "");
        if (r < 0) die(calls[c], r, &e);
        char **names = NULL;
        r = sd_bus_message_read_strv(m, &names);
        if (r < 0) die("names", r, NULL);
        sd_bus_message_unref(m);
        for (char **n = names; n && *n; n++) {
            uint32_t pid = 0;
            if (c == 0) {
                sd_bus_message *p = NULL;
                sd_bus_error pe = SD_BUS_ERROR_NULL;
                if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "GetConnectionUnixProcessID", &pe,
                                       &p, "s", *n) >= 0)
                    sd_bus_message_read(p, "u", &pid);
                sd_bus_error_free(&pe);
                sd_bus_message_unref(p);
            }
            printf("%s %u\n", *n, pid);
            free(*n);
        }
        free(names);
    }
    sd_bus_flush_close_unref(bus);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sdbus reads N | get-property | call UNIT | introspect PATH | tree | list\n");
        return 2;
    }
    if (!strcmp(argv[1], "reads") && argc == 3) reads(atol(argv[2]));
    else if (!strcmp(argv[1], "get-property")) get_property();
    else if (!strcmp(argv[1], "call") && argc == 3) call(argv[2]);
    else if (!strcmp(argv[1], "introspect") && argc == 3) introspect_object(argv[2]);
    else if (!strcmp(argv[1], "tree")) tree();
    else if (!strcmp(argv[1], "list")) list();
    else {
        fprintf(stderr, "bench_sdbus: bad arguments\n");
        return 2;
    }
    return 0;
}
