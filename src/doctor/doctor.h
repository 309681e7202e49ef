/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nvbind doctor: checks of a host's GPU container setup (driver, device nodes, CDI specs,
 * engine registration, cgroups, rootless prerequisites). Each check adds findings, each with
 * a severity, a stable code, a message naming the file or device involved and a fix.
 * Every host file is read through the host root (docs/doctor.md lists checks and codes).
 */
#ifndef NVB_DOCTOR_H
#define NVB_DOCTOR_H

#include "core/core.h"

struct nvb_config;

enum nvb_doctor_severity {
	NVB_DOCTOR_OK = 0,
	NVB_DOCTOR_INFO,
	NVB_DOCTOR_WARNING,
	NVB_DOCTOR_ERROR,
};

struct nvb_doctor_finding {
	enum nvb_doctor_severity severity;
	const char *check; /* static: the name of the check that added it (nvb_doctor_checks) */
	char *code;	   /* stable identifier, e.g. "cdi-spec-stale" */
	char *message;	   /* names the file or device involved */
	char *fix;	   /* the command or edit that fixes it; NULL when there is nothing to do */
};

struct nvb_doctor_report {
	struct nvb_doctor_finding *findings;
	size_t n_findings;
	enum nvb_doctor_severity worst;
};

/* What the checks share: the host, the configuration, the inventory (probed once) and the
 * report they fill. */
struct nvb_doctor_ctx {
	struct nvb_host *host;
	const struct nvb_config *cfg;
	struct nvb_inventory *inv;
	struct nvb_doctor_report *report;
	bool have_cdi_spec; /* set by the CDI check: a spec of cfg->cdi_kind exists */
};

/* One entry of the table of checks nvb_doctor_run runs, in order. name is the check field of
 * the findings run adds; title is the heading front ends print above them. */
struct nvb_doctor_check {
	const char *name;
	const char *title;
	int (*run)(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
};

/* The table of checks (static storage), in the order nvb_doctor_run runs them; *n entries. */
NVB_INTERNAL const struct nvb_doctor_check *nvb_doctor_checks(size_t *n);

/* Run every check of nvb_doctor_checks, in order. *out is a new report (free it with
 * nvb_doctor_report_free) whose findings are grouped by check. Returns -1 only when the host
 * cannot be read at all or memory runs out: problems of the host are findings. */
NVB_INTERNAL int nvb_doctor_run(struct nvb_host *host, const struct nvb_config *cfg,
				struct nvb_doctor_report **out, struct nvb_error *err);
NVB_INTERNAL void nvb_doctor_report_free(struct nvb_doctor_report *report);

/* The checks, one function each (nvb_doctor_run calls them in this order). The inventory check
 * must run first: the others use ctx->inv. Each returns -1 only on allocation failure. */
NVB_INTERNAL int nvb_doctor_check_driver(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_device_nodes(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_vendors(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_cdi(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_docker(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_podman(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_cgroup(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_subids(struct nvb_doctor_ctx *ctx, struct nvb_error *err);
NVB_INTERNAL int nvb_doctor_check_runtime(struct nvb_doctor_ctx *ctx, struct nvb_error *err);

/* Add a finding (the message is formatted); updates report->worst. fix may be NULL. */
NVB_INTERNAL int nvb_doctor_add(struct nvb_doctor_report *report, enum nvb_doctor_severity sev,
				const char *check, const char *code, const char *fix,
				const char *fmt, ...) NVB_PRINTF(6, 7);

/* "ok", "info", "warning", "error". */
NVB_INTERNAL const char *nvb_doctor_severity_name(enum nvb_doctor_severity sev);
/* {"findings": [{"severity", "code", "check", "message", "fix"}], "worst": "..."}; free() it. */
NVB_INTERNAL char *nvb_doctor_report_to_json(const struct nvb_doctor_report *report,
					     struct nvb_error *err);

#endif
