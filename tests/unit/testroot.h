/* SPDX-License-Identifier: Apache-2.0 */
/* What the unit tests that build small host roots share: a shell runner, a temporary root and
 * files, links and device nodes in it, and a probe of such a root. Include after <cmocka.h>. */
#ifndef NVB_TEST_TESTROOT_H
#define NVB_TEST_TESTROOT_H

#include <stdbool.h>
#include <stddef.h>

#include "inventory/inventory.h"

/* The current temporary root (root_setup makes it, root_teardown removes it). */
extern char root[256];

/* Run a shell command made from fmt; the test fails unless it exits 0. */
void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A file at root + rel with content (folders made as needed). */
void put(const char *rel, const char *content);
/* A symbolic link at root + rel to target (as given: relative or absolute). */
void link_to(const char *rel, const char *target);
/* A character device node at root + rel, mode 0666. */
void node(const char *rel, unsigned major, unsigned minor);
/* cmocka group setup/teardown: a fresh /tmp/nvb-unit-XXXXXX as root, removed after (kept and
 * printed when NVB_TEST_KEEP_ROOTS is set, to look at a failing tree). */
int root_setup(void **state);
int root_teardown(void **state);
/* nvb_inventory_probe of dir with NVB_PROBE_NO_NVML | flags; the test fails on an error. */
struct nvb_inventory *probe_root(const char *dir, unsigned flags);
/* The problem of inv with code whose message holds in_message (NULL: any), or NULL. */
const struct nvb_problem *find_problem(const struct nvb_inventory *inv, const char *code,
				       const char *in_message);
/* The fixture root name that tests/run.sh built (under NVB_FIXTURE_ROOTS) into out; false,
 * with a message, when it was not built (the test then skips its fixture part). */
bool fixture_root(const char *name, char *out, size_t cap);
/* That fixture root opened as a host; NULL (and skipped, as above) when it was not built. */
struct nvb_host *fixture_host(const char *name);

#endif
