/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind cdi generate | validate | list */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cdi/cdi.h"
#include "cli/cli.h"
#include "hooks/hooks.h"
#include "config/config.h"
#include "core/strv.h"

#define DEFAULT_OUTPUT "/etc/cdi/nvidia.com-gpu.json"
#define EXIT_UNCHANGED 4

static void cdi_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind [--root DIR] cdi generate [OPTIONS]\n"
		"       nvbind [--root DIR] cdi validate [--spec-dir DIR]... [FILE...]\n"
		"       nvbind [--root DIR] cdi list [--json] [--spec-dir DIR]...\n"
		"\n"
		"generate options:\n"
		"  --output FILE|DIR|-          where to write (default " DEFAULT_OUTPUT ", inside\n"
		"                               --root; missing directories are created). A file\n"
		"                               must end in .json or .yaml, which sets the format\n"
		"  --format json|yaml           for - and a directory (default json); with a file\n"
		"                               name it must match the name\n"
		"  --device-name-strategy LIST  index, uuid, type-index (default index,uuid)\n"
		"  --driver-capabilities LIST   utility,compute,video,graphics,display,ngx,compat32 or\n"
		"                               all (default: every capability found)\n"
		"  --hook-path PATH             nvbind executable the hooks run (default: this one)\n"
		"  --vendor nvidia|amd|intel    generate only this vendor's spec (default: one spec\n"
		"                               per vendor found, " DEFAULT_OUTPUT " and\n"
		"                               amd.com-gpu.json, intel.com-gpu.json beside it);\n"
		"                               needed with --output FILE or - when the host has GPUs\n"
		"                               of several vendors\n"
		"  --kind VENDOR/CLASS          default nvidia.com/gpu (AMD: amd.com/gpu, Intel:\n"
		"                               intel.com/gpu)\n"
		"  --if-changed                 write only when the driver version or GPU set changed\n"
		"  --no-driver-folder           mount every driver file on its own instead of the driver\n"
		"                               folder (/var/lib/nvbind/driver, mounted once; cdi.driver_folder)\n"
		"                               since the last write, or the installed spec is not\n"
		"                               byte for byte what would be written (exit 4 when\n"
		"                               nothing changed)\n"
		"validate: checks FILEs, or every spec in the spec directories; exit 1 on any error.\n"
		"list: qualified device names from the spec directories (default /etc/cdi then\n"
		"      /var/run/cdi, inside --root; a later directory wins).\n"
		"With --root, every default path is inside the root; --output and --spec-dir are\n"
		"taken as given (docs/cli.md, \"--root\").\n");
}

/* ------------------------------------------------------------- generate */

struct gen_args {
	const char *output;
	const char *format;
	const char *naming;
	const char *caps;
	const char *hook_path;
	const char *kind;
	const char *vendor;
	bool if_changed;
	bool no_driver_folder;
};

static char *default_hook_path(void)
{
	/* the hook program installed beside this nvbind: the hook must match the spec's writer */
	return nvb_sibling_program(NVB_HOOK_PROGRAM, NVBIND_BINDIR);
}

/* The facts --if-changed compares: driver, GPUs and MIG devices, and the options. */
static char *fingerprint(const struct nvb_inventory *inv, const char *spec_text)
{
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendf(&b, "driver=%s\n", inv->driver.version ? inv->driver.version : "");
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		/* WSL2's GPU has no bus id; AMD partitions share theirs: the node list tells them
		 * apart */
		nvb_strbuf_appendf(&b, "gpu=%s %s %d migs=%zu nodes=%zu\n",
				   g->pci_bus_id ? g->pci_bus_id : "-", g->uuid ? g->uuid : "-",
				   g->minor, g->n_migs, g->n_nodes);
		for (size_t k = 0; k < g->n_nodes; k++)
			nvb_strbuf_appendf(&b, "node=%s\n", g->nodes[k].path);
		for (size_t m = 0; m < g->n_migs; m++)
			nvb_strbuf_appendf(&b, "mig=%u:%u\n", g->migs[m].gi, g->migs[m].ci);
	}
	/* options and hook path are part of the spec text: hash it cheaply (FNV-1a) */
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = spec_text; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	nvb_strbuf_appendf(&b, "spec=%016llx\n", (unsigned long long)h);
	return nvb_strbuf_take(&b); /* NULL when memory ran out: no sidecar, no --if-changed */
}

static char *sidecar_path(const char *output)
{
	_cleanup_free_ char *dir = strdup(output);
	if (!dir)
		return NULL;
	char *slash = strrchr(dir, '/');
	if (!slash)
		return nvb_asprintf(".%s.nvbind-state", output);
	*slash = '\0';
	return nvb_asprintf("%s/.%s.nvbind-state", dir, slash + 1);
}

static bool unchanged(const char *output, const char *fp)
{
	_cleanup_free_ char *side = sidecar_path(output);
	struct stat st;
	if (!side || stat(output, &st) < 0)
		return false;
	_cleanup_close_ int fd = open(side, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	_cleanup_free_ char *old = NULL;
	struct nvb_error ignored;
	if (nvb_read_fd(fd, side, 1 << 20, &old, NULL, &ignored) < 0)
		return false;
	return strcmp(old, fp) == 0;
}

/* Why the installed spec must be rewritten although the driver and GPUs did not change, or NULL
 * when its bytes are exactly text (what would be written now). A spec that does not parse or
 * fails the validator of `cdi validate` is said to be so; any other difference (an edit, another
 * nvbind's output) is a mismatch. */
static char *installed_spec_fault(const char *output, const char *text)
{
	struct nvb_error err;
	struct nvb_cdi_spec *spec = nvb_cdi_spec_load(output, &err);
	if (!spec)
		return nvb_asprintf("does not parse (%s)", err.message);
	int problems = nvb_cdi_validate(spec, NULL, NULL, &err);
	nvb_cdi_spec_free(spec);
	if (problems > 0)
		return nvb_asprintf("is not valid (%s)", err.message);
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	_cleanup_close_ int fd = open(output, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || nvb_read_fd(fd, output, NVB_CDI_SPEC_MAX, &data, &len, &err) < 0)
		return nvb_asprintf("cannot be read back");
	if (len != strlen(text) || memcmp(data, text, len) != 0)
		return nvb_asprintf("differs from the spec generated now");
	return NULL;
}

static int parse_format(const char *name, enum nvb_cdi_format *fmt, struct nvb_error *err)
{
	if (strcmp(name, "json") == 0)
		*fmt = NVB_CDI_JSON;
	else if (strcmp(name, "yaml") == 0)
		*fmt = NVB_CDI_YAML;
	else
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --format json or yaml",
				     "unknown format '%s'", name);
	return 0;
}

static const char *format_name(enum nvb_cdi_format fmt)
{
	return fmt == NVB_CDI_YAML ? "yaml" : "json";
}

/* The format a spec file's name gives it. Engines read only *.json and *.yaml from the spec
 * directories, and parse each by its extension: any other name is refused. */
static int format_of_file(const char *file, enum nvb_cdi_format *fmt, struct nvb_error *err)
{
	if (nvb_str_has_suffix(file, ".json")) {
		*fmt = NVB_CDI_JSON;
	} else if (nvb_str_has_suffix(file, ".yaml")) {
		*fmt = NVB_CDI_YAML;
	} else if (nvb_str_has_suffix(file, ".yml")) {
		return nvb_error_set(err, NVB_ERR_USAGE, 0, "name the file .yaml",
				     "%s: engines ignore .yml spec files (accepted: .json, .yaml)",
				     file);
	} else {
		return nvb_error_set(err, NVB_ERR_USAGE, 0,
				     "name the file .json or .yaml, pass a directory, or - for stdout",
				     "%s: a CDI spec file must end in .json or .yaml (engines ignore "
				     "any other file)", file);
	}
	return 0;
}

/* Where generate writes and in which format. --output is taken as given; the default
 * (cdi.output) is inside the host root. A file's extension decides the format and a --format
 * that says otherwise is refused; stdout and a directory take --format, else cdi.format. */
/* The default file of a vendor's spec: cdi.output for NVIDIA; for the others the file of
 * their kind in the same directory, with the same extension (amd.com-gpu.json). */
static char *default_output(const struct nvb_config *cfg, enum nvb_vendor vendor)
{
	if (vendor == NVB_VENDOR_NVIDIA)
		return strdup(cfg->cdi_output);
	_cleanup_free_ char *dir = strdup(cfg->cdi_output);
	_cleanup_free_ char *base = strdup(nvb_vendor_cdi_kind(vendor));
	if (!dir || !base)
		return NULL;
	char *slash = strrchr(dir, '/');
	*(slash ? slash + 1 : dir) = '\0';
	*strchr(base, '/') = '-';
	const char *ext = nvb_str_has_suffix(cfg->cdi_output, ".yaml") ? "yaml" : "json";
	return nvb_asprintf("%s%s.%s", dir, base, ext);
}

static int resolve_output(const struct gen_args *a, const struct nvb_config *cfg,
			  enum nvb_vendor vendor, const char *kind, enum nvb_cdi_format *fmt,
			  char **output, struct nvb_error *err)
{
	_cleanup_free_ char *def = a->output ? NULL : default_output(cfg, vendor);
	if (!a->output && !def)
		return nvb_error_nomem(err);
	_cleanup_free_ char *out = a->output ? strdup(a->output) : nvb_config_host_path(cfg, def, err);
	if (!out)
		return a->output ? nvb_error_nomem(err) : -1;
	enum nvb_cdi_format want = NVB_CDI_JSON;
	if (parse_format(a->format ? a->format : cfg->cdi_format, &want, err) < 0)
		return -1;
	if (strcmp(out, "-") == 0) {
		*fmt = want;
		*output = NVB_TAKE_PTR(out);
		return 0;
	}
	struct stat st;
	size_t len = strlen(out);
	bool dir = (len > 1 && out[len - 1] == '/') || (stat(out, &st) == 0 && S_ISDIR(st.st_mode));
	if (dir) {
		while (len > 1 && out[len - 1] == '/')
			out[--len] = '\0';
		_cleanup_free_ char *base = strdup(kind);
		if (!base)
			return nvb_error_nomem(err);
		*strchr(base, '/') = '-';
		*fmt = want;
		*output = nvb_asprintf("%s/%s.%s", strcmp(out, "/") ? out : "", base,
				       format_name(want));
		return *output ? 0 : nvb_error_nomem(err);
	}
	if (format_of_file(out, fmt, err) < 0)
		return -1;
	if (a->format && *fmt != want) {
		char hint[96];
		snprintf(hint, sizeof(hint),
			 "leave out --format (the name decides), or name the file .%s",
			 format_name(want));
		return nvb_error_set(err, NVB_ERR_USAGE, 0, hint,
				     "--format %s does not match %s: a .%s file holds %s",
				     a->format, out, format_name(*fmt),
				     *fmt == NVB_CDI_YAML ? "YAML" : "JSON");
	}
	*output = NVB_TAKE_PTR(out);
	return 0;
}

/* One vendor's spec written to output (or stdout), --if-changed honoured. */
static int generate_one(const struct gen_args *a, const struct nvb_inventory *inv,
			const struct nvb_cdi_gen_opts *opts, enum nvb_cdi_format fmt,
			const char *output)
{
	struct nvb_error err;
	nvb_error_clear(&err);
	int rc = NVB_EXIT_FAILURE;
	struct nvb_cdi_gen_opts o = *opts;
	struct nvb_driver_folder *folder =
		a->no_driver_folder ? NULL : nvb_driver_folder_for_spec(opts->host_root, inv);
	o.folder = folder;
	struct nvb_cdi_spec *spec = nvb_cdi_generate(inv, &o, &err);
	nvb_driver_folder_free(folder);
	char *text = NULL, *fp = NULL, *side = NULL;
	const char *version = inv->driver.version ? inv->driver.version : "unknown";
	if (!spec || nvb_cdi_validate(spec, NULL, NULL, &err) > 0 ||
	    !(text = nvb_cdi_spec_format(spec, fmt, &err))) {
		rc = nvb_cli_fail(&err);
		goto out;
	}
	if (strcmp(output, "-") == 0) {
		fputs(text, stdout);
		rc = NVB_EXIT_OK;
		goto out;
	}
	fp = fingerprint(inv, text);
	if (a->if_changed && fp && unchanged(output, fp)) {
		_cleanup_free_ char *fault = installed_spec_fault(output, text);
		if (!fault) {
			fprintf(stderr, "nvbind: %s is up to date (driver %s, %zu GPU(s))\n",
				output, version, inv->n_gpus);
			rc = EXIT_UNCHANGED;
			goto out;
		}
		fprintf(stderr, "nvbind: %s %s: rewriting it\n", output, fault);
	}
	/* a fresh host has no /etc/cdi yet */
	if (nvb_mkdir_parents(output, &err) < 0 ||
	    nvb_write_file_atomic(output, text, strlen(text), 0644, &err) < 0) {
		rc = nvb_cli_fail(&err);
		goto out;
	}
	side = sidecar_path(output);
	if (fp && side && nvb_write_file_atomic(side, fp, strlen(fp), 0644, &err) < 0)
		nvb_warn("cdi", "cannot record the state for --if-changed: %s", err.message);
	fprintf(stderr, "nvbind: wrote %s (cdiVersion %s, %zu devices, driver %s)\n", output,
		spec->cdi_version, spec->n_devices, version);
	rc = NVB_EXIT_OK;
out:
	free(side);
	free(fp);
	free(text);
	nvb_cdi_spec_free(spec);
	return rc;
}

/* Whether an inventory has something to put in a spec: a GPU (AMD, Intel: one with a node). */
static bool has_spec_gpus(const struct nvb_inventory *inv)
{
	for (size_t i = 0; i < inv->n_gpus; i++)
		if (inv->driver.vendor == NVB_VENDOR_NVIDIA || inv->gpus[i].n_nodes > 0)
			return true;
	return false;
}

/* The inventories to write specs of: the --vendor one, else every one with GPUs. n == 0 and
 * an error when there is none; a usage error when several meet one output file or --kind. */
static int pick_vendors(const struct gen_args *a, const struct nvb_inventory *inv,
			const struct nvb_inventory **picked, size_t *n, struct nvb_error *err)
{
	*n = 0;
	if (a->vendor) {
		enum nvb_vendor v;
		if (nvb_vendor_parse(a->vendor, &v) < 0)
			return nvb_error_set(err, NVB_ERR_USAGE, 0, "use --vendor nvidia, amd or intel",
					     "--vendor: unknown vendor '%s'", a->vendor);
		const struct nvb_inventory *one = nvb_inventory_of_vendor(inv, v);
		if (v == NVB_VENDOR_NVIDIA || (one && one->n_gpus)) {
			picked[(*n)++] = one; /* the NVIDIA one is always there: its own error */
			return 0;
		}
		return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0, "run 'nvbind info' to see what was found",
				     "--vendor %s: no %s GPU found: there is nothing to put in a CDI spec",
				     a->vendor, a->vendor);
	}
	for (const struct nvb_inventory *v = inv; v; v = v->next)
		if (has_spec_gpus(v))
			picked[(*n)++] = v;
	if (*n == 0) {
		picked[(*n)++] = inv; /* NVIDIA's "no NVIDIA GPU found" when no vendor has one */
		return 0;
	}
	bool one_file = a->output && (!strcmp(a->output, "-") || (nvb_str_has_suffix(a->output, ".json") ||
								   nvb_str_has_suffix(a->output, ".yaml")));
	if (*n > 1 && (one_file || a->kind)) {
		char found[64] = "";
		for (size_t i = 0; i < *n; i++)
			snprintf(found + strlen(found), sizeof(found) - strlen(found), "%s%s",
				 i ? ", " : "", nvb_vendor_word(picked[i]->driver.vendor));
		return nvb_error_set(err, NVB_ERR_USAGE, 0,
				     "pass --vendor nvidia, amd or intel to write one vendor's spec",
				     "this host has GPUs of several vendors (%s): %s holds one spec", found,
				     one_file ? (strcmp(a->output, "-") ? a->output : "stdout")
					      : "--kind names one vendor's kind");
	}
	return 0;
}

static int generate(struct nvb_cli *cli, struct gen_args *a)
{
	struct nvb_error err;
	nvb_error_clear(&err);
	const struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	/* options not given take the [cdi] settings of the configuration (output and format:
	 * resolve_output); the configured kind is NVIDIA's */
	if (!a->naming)
		a->naming = cfg->cdi_naming;
	if (!a->hook_path && cfg->cdi_hook_path[0])
		a->hook_path = cfg->cdi_hook_path;
	if (!cfg->cdi_driver_folder)
		a->no_driver_folder = true;
	struct nvb_cdi_gen_opts opts = {0};
	if (a->kind && !nvb_cdi_valid_kind(a->kind, true))
		return nvb_cli_usage_error("--kind '%s' is not vendor/class", a->kind);
	if (a->naming && nvb_cdi_naming_parse(a->naming, &opts.naming, &err) < 0)
		return nvb_cli_fail(&err);
	if (a->caps && nvb_caps_parse(a->caps, &opts.caps, &err) < 0) {
		err.code = NVB_ERR_USAGE;
		return nvb_cli_fail(&err);
	}
	_cleanup_free_ char *hook = a->hook_path ? strdup(a->hook_path) : default_hook_path();
	opts.hook_path = hook;
	enum nvb_vendor only = NVB_VENDOR_NVIDIA;
	if (a->vendor && nvb_vendor_parse(a->vendor, &only) < 0)
		return nvb_cli_usage_error("--vendor: unknown vendor '%s' (use nvidia, amd or intel)",
					   a->vendor);
	static const unsigned probe_bit[] = {[NVB_VENDOR_NVIDIA] = NVB_PROBE_NVIDIA,
					     [NVB_VENDOR_AMD] = NVB_PROBE_AMD,
					     [NVB_VENDOR_INTEL] = NVB_PROBE_INTEL};
	unsigned flags = NVB_PROBE_NO_NVML | NVB_PROBE_NVML_IF_MIG | (a->vendor ? probe_bit[only] : 0);

	struct nvb_host *host = nvb_cli_host(cli, &err);
	if (!host)
		return nvb_cli_fail(&err);
	opts.host_root = nvb_host_root(host);
	struct nvb_inventory *inv = nvb_inventory_probe(host, flags, &err);
	const struct nvb_inventory *picked[8];
	size_t n = 0;
	int rc = NVB_EXIT_FAILURE;
	if (!inv || pick_vendors(a, inv, picked, &n, &err) < 0) {
		rc = nvb_cli_fail(&err);
		goto out;
	}
	bool wrote = false, failed = false;
	for (size_t i = 0; i < n; i++) {
		enum nvb_vendor v = picked[i]->driver.vendor;
		const char *kind = a->kind ? a->kind
			: v == NVB_VENDOR_NVIDIA ? cfg->cdi_kind : nvb_vendor_cdi_kind(v);
		opts.kind = kind;
		enum nvb_cdi_format fmt = NVB_CDI_JSON;
		_cleanup_free_ char *output = NULL;
		int r = resolve_output(a, cfg, v, kind, &fmt, &output, &err) < 0
				? nvb_cli_fail(&err)
				: generate_one(a, picked[i], &opts, fmt, output);
		wrote = wrote || r == NVB_EXIT_OK;
		if (r != NVB_EXIT_OK && r != EXIT_UNCHANGED) {
			failed = true;
			rc = r;
		}
	}
	if (!failed)
		rc = wrote ? NVB_EXIT_OK : EXIT_UNCHANGED;
out:
	nvb_inventory_free(inv);
	nvb_host_free(host);
	return rc;
}

/* ------------------------------------------------------------- validate */

/* host.spec_dirs of the configuration, inside the host root (the --root rule). */
static int configured_dirs(struct nvb_cli *cli, struct nvb_strv *dirs, struct nvb_error *err)
{
	const struct nvb_config *cfg = nvb_cli_config(cli, err);
	return cfg ? nvb_config_spec_dirs(cfg, dirs, err) : -1;
}

static void print_problem(void *ctx, const char *msg)
{
	if (ctx)
		++*(size_t *)ctx;
	fprintf(stderr, "nvbind: error: %s\n", msg);
}

static int validate_file(const char *path)
{
	struct nvb_error err;
	size_t reported = 0;
	/* every problem of the file, one line each: the reader's, else the validator's */
	struct nvb_cdi_spec *spec = nvb_cdi_spec_load_report(path, print_problem, &reported, &err);
	if (!spec) {
		if (reported == 0)
			nvb_cli_fail(&err);
		else
			fprintf(stderr, "hint: %s\n", err.hint);
		return 1;
	}
	int n = nvb_cdi_validate(spec, print_problem, NULL, &err);
	if (n == 0)
		printf("%s: valid (cdiVersion %s, kind %s, %zu devices)\n", path, spec->cdi_version,
		       spec->kind, spec->n_devices);
	nvb_cdi_spec_free(spec);
	return n > 0;
}

/* "nvbind: WHAT: no CDI spec (.json, .yaml) in DIR, DIR" on stderr, naming what was searched */
static void print_nothing_found(const char *what, const struct nvb_strv *dirs)
{
	fprintf(stderr, "nvbind: %s: no CDI spec (.json, .yaml) in ", what);
	for (size_t d = 0; d < dirs->n; d++)
		fprintf(stderr, "%s%s", d ? ", " : "", dirs->v[d]);
	fprintf(stderr, "%s\n", dirs->n ? "" : "no directory (host.spec_dirs is empty)");
}

static int validate(struct nvb_strv *dirs, int argc, char **argv)
{
	int bad = 0, checked = 0;
	for (int i = optind; i < argc; i++, checked++)
		bad += validate_file(argv[i]);
	for (size_t d = 0; optind >= argc && d < dirs->n; d++) {
		_cleanup_closedir_ DIR *dir = nvb_opendirat(AT_FDCWD, dirs->v[d], 0);
		if (!dir)
			continue;
		NVB_DIR_FOREACH(de, dir) {
			if (de->d_name[0] == '.') /* hidden files are no specs either */
				continue;
			_cleanup_free_ char *path = nvb_asprintf("%s/%s", dirs->v[d], de->d_name);
			if (nvb_str_has_suffix(de->d_name, ".yml")) {
				fprintf(stderr, "nvbind: error: %s: engines ignore .yml files\n"
						"hint: rename it to .yaml\n", path);
				bad++;
			} else if (nvb_str_has_suffix(de->d_name, ".json") ||
				   nvb_str_has_suffix(de->d_name, ".yaml")) {
				bad += validate_file(path);
				checked++;
			}
		}
	}
	if (!checked && !bad)
		print_nothing_found("nothing to validate", dirs);
	return bad ? NVB_EXIT_FAILURE : NVB_EXIT_OK;
}

/* ----------------------------------------------------------------- list */

static int list(struct nvb_strv *dirs, bool json)
{
	struct nvb_error err;
	struct nvb_cdi_registry *reg =
		nvb_cdi_registry_load((const char *const *)dirs->v, dirs->n, &err);
	if (!reg)
		return nvb_cli_fail(&err);
	for (size_t i = 0; i < reg->n_errors; i++)
		fprintf(stderr, "nvbind: warning: %s\n", reg->errors[i]);
	if (json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < reg->n_entries; i++)
			json_array_append_new(arr, json_pack("{s:s, s:s}", "name",
							     reg->entries[i].qualified, "spec",
							     reg->entries[i].spec->origin));
		json_t *root = json_pack("{s:o}", "devices", arr);
		json_t *errs = json_array();
		for (size_t i = 0; i < reg->n_errors; i++)
			json_array_append_new(errs, json_string(reg->errors[i]));
		json_object_set_new(root, "errors", errs);
		char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		if (text)
			printf("%s\n", text);
		free(text);
		json_decref(root);
	} else {
		for (size_t i = 0; i < reg->n_entries; i++)
			printf("%s\n", reg->entries[i].qualified);
		if (!reg->n_entries && !reg->n_errors)
			print_nothing_found("no CDI devices", dirs);
	}
	nvb_cdi_registry_free(reg);
	return NVB_EXIT_OK;
}

int nvb_cmd_cdi(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		cdi_usage(stderr);
		return NVB_EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		cdi_usage(stdout);
		return NVB_EXIT_OK;
	}
	static const char *const subs[] = {"generate", "validate", "list"};
	if (strcmp(sub, subs[0]) && strcmp(sub, subs[1]) && strcmp(sub, subs[2]))
		return nvb_cli_unknown("cdi command", sub, subs, NVB_ARRAY_SIZE(subs));
	struct gen_args ga = {0};
	_cleanup_strv_ struct nvb_strv dirs = {0};
	bool json = false;
	enum { O_OUT = 1, O_FMT, O_NAME, O_CAPS, O_HOOK, O_KIND, O_VEND, O_IFCH, O_NOFOLD, O_DIR, O_JSON };
	static const struct option opts[] = {
		{"output", required_argument, NULL, O_OUT},
		{"format", required_argument, NULL, O_FMT},
		{"device-name-strategy", required_argument, NULL, O_NAME},
		{"driver-capabilities", required_argument, NULL, O_CAPS},
		{"hook-path", required_argument, NULL, O_HOOK},
		{"kind", required_argument, NULL, O_KIND},
		{"vendor", required_argument, NULL, O_VEND},
		{"if-changed", no_argument, NULL, O_IFCH},
		{"no-driver-folder", no_argument, NULL, O_NOFOLD},
		{"spec-dir", required_argument, NULL, O_DIR},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool is_gen = strcmp(sub, "generate") == 0;
	int c;
	optind = 2;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (!is_gen && c >= O_OUT && c <= O_NOFOLD)
			return nvb_cli_usage_error("cdi %s: option not valid here", sub);
		if (is_gen && (c == O_DIR || c == O_JSON))
			return nvb_cli_usage_error("cdi generate: option not valid here");
		switch (c) {
		case 'o':
		case O_OUT: ga.output = optarg; break;
		case O_FMT: ga.format = optarg; break;
		case O_NAME: ga.naming = optarg; break;
		case O_CAPS: ga.caps = optarg; break;
		case O_HOOK: ga.hook_path = optarg; break;
		case O_KIND: ga.kind = optarg; break;
		case O_VEND: ga.vendor = optarg; break;
		case O_IFCH: ga.if_changed = true; break;
		case O_NOFOLD: ga.no_driver_folder = true; break;
		case O_DIR:
			if (nvb_strv_push(&dirs, optarg) < 0) {
				struct nvb_error err;
				nvb_error_nomem(&err);
				return nvb_cli_fail(&err);
			}
			break;
		case O_JSON: json = true; break;
		case 'h': cdi_usage(stdout); return NVB_EXIT_OK;
		default: cdi_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	if (is_gen) {
		if (optind < argc)
			return nvb_cli_usage_error("cdi generate: unexpected argument '%s'", argv[optind]);
		return generate(cli, &ga);
	}
	bool is_list = strcmp(sub, "list") == 0;
	if (!is_list && strcmp(sub, "validate") != 0)
		return nvb_cli_usage_error("unknown cdi command '%s' (use generate, validate or list)",
					   sub);
	if (is_list && optind < argc)
		return nvb_cli_usage_error("cdi list: unexpected argument '%s'", argv[optind]);
	struct nvb_error err;
	nvb_error_clear(&err);
	/* validate FILE... reads no directory */
	int rc = dirs.n == 0 && (is_list || optind >= argc) ? configured_dirs(cli, &dirs, &err) : 0;
	if (rc < 0)
		rc = nvb_cli_fail(&err);
	else
		rc = is_list ? list(&dirs, json) : validate(&dirs, argc, argv);
	return rc;
}
