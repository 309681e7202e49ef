/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: the report (findings, severities, JSON) and the run over the table of checks, whose
 * order and section titles every front end shares (docs/doctor.md). The checks themselves are
 * in driver.c, devices.c, cdi.c, engines.c, system.c and check_runtime.c. */
#include "doctor/doctor.h"

#include <jansson.h>

/* In the order of docs/doctor.md: the driver check first (the others read ctx->inv), the CDI
 * check before podman's (which reads ctx->have_cdi_spec). */
static const struct nvb_doctor_check checks[] = {
    {"driver", "Driver and driver files", nvb_doctor_check_driver},
    {"devices", "Device nodes", nvb_doctor_check_device_nodes},
    {"vendors", "AMD and Intel GPUs", nvb_doctor_check_vendors},
    {"cdi", "CDI specs", nvb_doctor_check_cdi},
    {"docker", "Docker", nvb_doctor_check_docker},
    {"podman", "Podman", nvb_doctor_check_podman},
    {"cgroup", "Cgroups", nvb_doctor_check_cgroup},
    {"rootless", "Rootless containers", nvb_doctor_check_subids},
    {"runtime", "Low-level runtime", nvb_doctor_check_runtime},
};

const struct nvb_doctor_check *nvb_doctor_checks(size_t *n)
{
	*n = NVB_ARRAY_SIZE(checks);
	return checks;
}

static const char *const severity_names[] = {"ok", "info", "warning", "error"};

const char *nvb_doctor_severity_name(enum nvb_doctor_severity sev)
{
	return (unsigned)sev < NVB_ARRAY_SIZE(severity_names) ? severity_names[sev] : "error";
}

int nvb_doctor_add(struct nvb_doctor_report *report, enum nvb_doctor_severity sev,
		   const char *check, const char *code, const char *fix, const char *fmt, ...)
{
	char *message = NULL;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	struct nvb_doctor_finding *f =
	    nvb_array_push(&report->findings, &report->n_findings, sizeof(*f));
	if (!f) {
		free(message);
		return -1;
	}
	f->severity = sev;
	f->check = check;
	f->message = message;
	f->code = strdup(code);
	f->fix = fix ? strdup(fix) : NULL;
	if (!f->code || (fix && !f->fix))
		return -1; /* freed with the report */
	if (sev > report->worst)
		report->worst = sev;
	return 0;
}

void nvb_doctor_report_free(struct nvb_doctor_report *report)
{
	if (!report)
		return;
	for (size_t i = 0; i < report->n_findings; i++) {
		free(report->findings[i].code);
		free(report->findings[i].message);
		free(report->findings[i].fix);
	}
	free(report->findings);
	free(report);
}

char *nvb_doctor_report_to_json(const struct nvb_doctor_report *report, struct nvb_error *err)
{
	json_t *arr = json_array();
	json_t *root = json_object();
	if (!arr || !root)
		goto nomem;
	for (size_t i = 0; i < report->n_findings; i++) {
		const struct nvb_doctor_finding *f = &report->findings[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "severity",
				      nvb_doctor_severity_name(f->severity), "code", f->code,
				      "message", f->message, "fix", f->fix, "check", f->check);
		if (!o || json_array_append_new(arr, o) < 0)
			goto nomem;
	}
	if (json_object_set_new(root, "findings", arr) < 0) {
		arr = NULL;
		goto nomem;
	}
	arr = NULL;
	if (json_object_set_new(root, "worst",
				json_string(nvb_doctor_severity_name(report->worst))) < 0)
		goto nomem;
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		nvb_error_nomem(err);
	return text;
nomem:
	json_decref(arr);
	json_decref(root);
	nvb_error_nomem(err);
	return NULL;
}

int nvb_doctor_run(struct nvb_host *host, const struct nvb_config *cfg,
		   struct nvb_doctor_report **out, struct nvb_error *err)
{
	*out = NULL;
	struct nvb_doctor_report *report = calloc(1, sizeof(*report));
	if (!report)
		return nvb_error_nomem(err);
	report->worst = NVB_DOCTOR_OK;
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, err);
	if (!inv) {
		nvb_doctor_report_free(report);
		return -1;
	}
	struct nvb_doctor_ctx ctx = {.host = host, .cfg = cfg, .inv = inv, .report = report};
	int r = 0;
	for (size_t i = 0; r == 0 && i < NVB_ARRAY_SIZE(checks); i++)
		r = checks[i].run(&ctx, err);
	nvb_inventory_free(inv);
	if (r < 0) {
		nvb_doctor_report_free(report);
		return -1;
	}
	*out = report;
	return 0;
}
