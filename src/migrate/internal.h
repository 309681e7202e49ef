/* SPDX-License-Identifier: Apache-2.0 */
/* What the files of src/migrate share among themselves (not for other folders). */
#ifndef NVB_MIGRATE_INTERNAL_H
#define NVB_MIGRATE_INTERNAL_H

#include "migrate/migrate.h"

/* Append copies of every string of src. */
NVB_INTERNAL int nvb_strv_add_all(struct nvb_strv *dst, const struct nvb_strv *src);

/* A new item of the report (value is taken, also on failure); NULL when memory ran out. */
NVB_INTERNAL struct nvb_migrate_item *nvb_migrate_add_item(struct nvb_migrate_report *r,
							   const char *origin, int line,
							   const char *setting, char *value);
NVB_INTERNAL int nvb_migrate_set_note(struct nvb_migrate_item *it, const char *fmt, ...)
	NVB_PRINTF(2, 3);

#endif
