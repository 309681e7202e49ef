/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cdi/cdi.h"
#include "config/config.h"
#include "format/toml.h"
#include "oci/oci.h"
#include "hooks/hooks.h"
#include "oci/prepare.h"
#include "oci/records.h"
#include "runtime/isolate.h"
#include "runtime/runtime.h"


/* runc's global options that take a value (urfave/cli accepts -x, --x, and --x=v forms) */
static const char *const global_with_value[] = {"log", "log-format", "root", "criu", "rootless"};

static const char *flag_name(const char *arg)
{
	if (arg[0] != '-')
		return NULL;
	return arg[1] == '-' ? arg + 2 : arg + 1;
}

static bool takes_value(const char *name)
{
	for (size_t i = 0; i < NVB_ARRAY_SIZE(global_with_value); i++)
		if (!strcmp(name, global_with_value[i]))
			return true;
	return false;
}

/* create's and run's options that take a value (runc 1.1: the rest are booleans) */
static bool command_takes_value(const char *name)
{
	static const char *const with_value[] = {"console-socket", "pid-file", "preserve-fds",
		/* checkpoint's and restore's */
		"image-path", "work-path", "parent-path", "page-server", "manage-cgroups-mode",
		"empty-ns", "status-fd", "lsm-profile", "lsm-mount-context"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(with_value); i++)
		if (!strcmp(name, with_value[i]))
			return true;
	return false;
}

void nvb_runtime_parse_args(int argc, char **argv, struct nvb_runtime_args *a)
{
	memset(a, 0, sizeof(*a));
	a->bundle = ".";
	a->argv = argv;
	int i = 1;
	for (; i < argc; i++) {
		const char *name = flag_name(argv[i]);
		if (!name)
			break;
		if (!strcmp(argv[i], "--"))
			return;
		if (!strcmp(name, "debug"))
			a->debug = true;
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v"))
			a->version = true;
		const char **slot = !strncmp(name, "log-format", 10) ? &a->log_format
				    : (!strncmp(name, "log", 3) && (name[3] == '=' || !name[3])) ? &a->log_path
				    : (!strncmp(name, "root", 4) && (name[4] == '=' || !name[4])) ? &a->root
				    : NULL;
		const char *eq = strchr(name, '=');
		if (slot && eq)
			*slot = eq + 1;
		else if (slot && i + 1 < argc)
			*slot = argv[i + 1];
		if (!eq && takes_value(name))
			i++;
	}
	if (i >= argc)
		return;
	a->command = argv[i];
	a->edits_bundle = !strcmp(a->command, "create") || !strcmp(a->command, "run");
	bool wants_id = a->edits_bundle || !strcmp(a->command, "delete") ||
			!strcmp(a->command, "checkpoint") || !strcmp(a->command, "restore");
	bool options = true;
	for (i++; i < argc; i++) {
		const char *name = options ? flag_name(argv[i]) : NULL;
		if (options && !strcmp(argv[i], "--")) {
			options = false;
			continue;
		}
		if (!name) {
			if (wants_id)
				a->container_id = argv[i];
			continue;
		}
		if (!strchr(name, '=') && command_takes_value(name) && i + 1 < argc &&
		    strcmp(name, "bundle") && strcmp(name, "b")) {
			i++; /* its value is not the container id */
			continue;
		}
		a->leave_running = a->leave_running || !strcmp(name, "leave-running");
		a->pre_dump = a->pre_dump || !strcmp(name, "pre-dump");
		a->detach = a->detach || !strcmp(name, "detach") || !strcmp(name, "d");
		if ((!strcmp(name, "bundle") || !strcmp(name, "b")) && i + 1 < argc)
			a->bundle = argv[++i];
		else if (nvb_str_has_prefix(name, "bundle="))
			a->bundle = name + 7;
		else if (nvb_str_has_prefix(name, "b="))
			a->bundle = name + 2;
	}
}

/* The first executable `name` on PATH that is not nvbind-runtime (this one or another copy:
 * the wrapper is installed under names it looks for). */
static bool path_search(const char *name, char *out, size_t cap)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	const char *path = getenv("PATH");
	_cleanup_free_ char *copy =
		strdup(path && *path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	char *save = NULL;
	for (char *dir = copy ? strtok_r(copy, ":", &save) : NULL; dir; dir = strtok_r(NULL, ":", &save)) {
		char cand[PATH_MAX], real[PATH_MAX];
		snprintf(cand, sizeof(cand), "%s/%s", dir, name);
		if (access(cand, X_OK) != 0 || !realpath(cand, real) || !strcmp(real, self))
			continue;
		const char *base = strrchr(real, '/');
		if (base && !strcmp(base + 1, "nvbind-runtime"))
			continue; /* another installed copy of this program */
		snprintf(out, cap, "%s", cand);
		return true;
	}
	return false;
}

static int find_low_level(char *out, size_t cap, struct nvb_error *err)
{
	if (path_search("runc", out, cap) || path_search("crun", out, cap))
		return 0;
	return nvb_error_set(err, NVB_ERR_NOT_FOUND, 0,
			     "install runc or crun, or set runtime.low_level in the nvbind configuration",
			     "no low-level OCI runtime (runc, crun) found in PATH");
}

int nvb_runtime_config_load(struct nvb_runtime_config *rc, const struct nvb_runtime_args *args,
			    struct nvb_error *err)
{
	memset(rc, 0, sizeof(*rc));
	/* the same configuration file and library call as every nvbind command */
	rc->cfg = nvb_config_load(NULL, err);
	if (!rc->cfg)
		return -1;
	const struct nvb_config *cfg = rc->cfg;
	enum nvb_log_level level = NVB_LOG_INFO;
	nvb_log_level_parse(cfg->runtime_log_level, &level);
	const char *env_level = getenv("NVBIND_LOG_LEVEL");
	if (env_level)
		nvb_log_level_parse(env_level, &level);
	if (args->debug)
		level = NVB_LOG_DEBUG;
	/* the format of every nvbind program's log: log.format, NVBIND_LOG_FORMAT over it */
	enum nvb_log_format format = NVB_LOG_TEXT;
	nvb_log_format_parse(cfg->log_format, &format);
	const char *env_format = getenv("NVBIND_LOG_FORMAT");
	if (env_format)
		nvb_log_format_parse(env_format, &format);
	struct nvb_error lerr;
	if (nvb_log_setup(level, format, cfg->runtime_log_file, &lerr) < 0)
		nvb_log_setup(NVB_LOG_ERROR, format, "/dev/null", &lerr);
	if (cfg->low_level[0]) {
		if (access(cfg->low_level, X_OK) != 0)
			return nvb_error_errno(err, errno, "fix runtime.low_level in the configuration",
					       "low-level runtime %s", cfg->low_level);
		snprintf(rc->low_level, sizeof(rc->low_level), "%s", cfg->low_level);
		return 0;
	}
	return find_low_level(rc->low_level, sizeof(rc->low_level), err);
}

/* The configuration file nvb_config_load reads when no --config is given (config.c): the
 * wrapper takes no --config. *must_exist: named by NVBIND_CONFIG. */
static char *config_file(bool *must_exist)
{
	return nvb_config_find(NULL, must_exist);
}

/* runtime.<key> of the file as a string: NULL when absent, -1 with err set when the file
 * cannot be read or parsed or the value is not a string. */
static int passthrough_setting(const struct nvb_toml_value *root, const char *key,
			       const char *path, const char **value, struct nvb_error *err)
{
	const struct nvb_toml_value *v = nvb_toml_get(nvb_toml_get(root, "runtime"), key);
	*value = NULL;
	if (!v)
		return 0;
	if (v->type != NVB_TOML_STRING || strlen(v->v.s) != v->len)
		return nvb_error_set(err, NVB_ERR_INVALID, 0, NULL, "%s:%d:%d: runtime.%s: not a string",
				     path, v->line, v->column, key);
	*value = v->v.s;
	return 0;
}

/* Log a configuration problem of a pass-through command where the administrator looks (the
 * runtime log, else stderr), without failing the command. */
static void passthrough_warn(const struct nvb_runtime_args *args, const char *log_file,
			     const struct nvb_error *cerr)
{
	struct nvb_error lerr;
	if (nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, log_file ? log_file : NVB_RUNTIME_LOG_DEFAULT,
			  &lerr) < 0)
		nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, NULL, &lerr); /* stderr */
	nvb_warn("runtime", "%s: ignoring the configuration (only create and run use it): %s%s%s",
		 args->command ? args->command : "(no command)", cerr->message,
		 cerr->hint[0] ? "; hint: " : "", cerr->hint);
}

/* state, kill, delete, exec, ...: they read runtime.low_level at most, and never fail for
 * the configuration's sake: with a typo in the file (found by create and run) every existing
 * container must stay killable and deletable. Whatever is wrong is logged and PATH's runc or
 * crun is used. */
static void pick_low_level(const struct nvb_runtime_args *args, char *out, size_t cap, bool quiet)
{
	struct nvb_error cerr;
	nvb_error_clear(&cerr);
	bool must_exist;
	_cleanup_free_ char *path = config_file(&must_exist);
	_cleanup_free_ char *data = NULL;
	struct nvb_toml_value *root = NULL;
	const char *low_level = NULL, *log_file = NULL;
	size_t len = 0;
	int r = 0;
	if (!path) {
		r = nvb_error_nomem(&cerr);
	} else {
		struct nvb_error oerr;
		_cleanup_close_ int fd = nvb_open_regular(AT_FDCWD, path, 0, "configuration file", &oerr);
		if (fd < 0 && (must_exist || oerr.sys_errno != ENOENT)) {
			cerr = oerr;
			r = -1;
		} else if (fd >= 0) {
			r = nvb_read_fd(fd, path, NVB_TOML_MAX_SIZE, &data, &len, &cerr);
			if (r == 0 && !(root = nvb_toml_parse(data, len, path, &cerr)))
				r = -1;
		}
	}
	if (r == 0 && root)
		r = passthrough_setting(root, "low_level", path, &low_level, &cerr);
	if (root) /* for the warnings: the log file the configuration names, when it says */
		passthrough_setting(root, "log_file", path, &log_file, &(struct nvb_error){0});
	if (r == 0 && low_level && low_level[0]) {
		if (low_level[0] != '/' || access(low_level, X_OK) != 0)
			r = nvb_error_set(&cerr, NVB_ERR_INVALID, 0, "fix runtime.low_level in the configuration",
					  "%s: runtime.low_level %s: %s", path, low_level,
					  low_level[0] != '/' ? "not an absolute path" : strerror(errno));
		else
			snprintf(out, cap, "%s", low_level);
	}
	if (r < 0 && !quiet)
		passthrough_warn(args, log_file, &cerr);
	if (r < 0 || !low_level || !low_level[0]) {
		struct nvb_error ferr;
		if (find_low_level(out, cap, &ferr) < 0) {
			snprintf(out, cap, "runc"); /* execv fails and says so */
			if (!quiet)
				passthrough_warn(args, log_file, &ferr);
		}
	}
	nvb_toml_free(root);
}

void nvb_runtime_passthrough_low_level(const struct nvb_runtime_args *args, char *out, size_t cap)
{
	pick_low_level(args, out, cap, false);
}

int nvb_runtime_print_version(const struct nvb_runtime_args *args)
{
	printf("nvbind-runtime version %s (nvbind)\n", nvb_version());
	char low_level[PATH_MAX];
	struct nvb_error err;
	/* runtime.low_level when the configuration names one, else runc or crun on PATH: the
	 * pass-through choice, which never fails; a question logs nothing */
	pick_low_level(args, low_level, sizeof(low_level), true);
	if (low_level[0] != '/' && find_low_level(low_level, sizeof(low_level), &err) < 0) {
		printf("low-level runtime: none found (%s; %s)\n", err.message, err.hint);
		return 0;
	}
	printf("low-level runtime: %s\n", low_level);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl(low_level, low_level, "--version", (char *)NULL);
		fprintf(stderr, "nvbind-runtime: cannot execute %s: %s\n", low_level, strerror(errno));
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		printf("low-level runtime: cannot run %s --version: %s\n", low_level, strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("low-level runtime: %s --version failed (%s %d)\n", low_level,
		       WIFEXITED(status) ? "exit status" : "signal",
		       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

int nvb_runtime_edit_bundle(const struct nvb_runtime_config *cfg,
			    const struct nvb_runtime_args *args, struct nvb_runtime_applied *out,
			    struct nvb_error *err)
{
	json_t *config = nvb_oci_config_load(args->bundle, err);
	if (!config)
		return -1;
	const struct nvb_config *c = cfg->cfg;
	/* only create and run need it (for a spec generated in memory): not on the pass-through path */
	_cleanup_free_ char *hook = c->cdi_hook_path[0] ? strdup(c->cdi_hook_path)
						       : nvb_sibling_program(NVB_HOOK_PROGRAM, NVBIND_BINDIR);
	if (!hook) {
		json_decref(config);
		return nvb_error_nomem(err);
	}
	struct nvb_runtime_opts opts = {
		.host_root = c->root,
		.spec_dirs = (const char *const *)c->spec_dirs,
		.n_spec_dirs = c->n_spec_dirs,
		.hook_path = hook,
		.bundle = args->bundle,
		.env_when_unprivileged = c->env_when_unprivileged,
		.no_driver_folder = !c->cdi_driver_folder,
		.allowed = c->n_allowed_devices ? (const char *const *)c->allowed_devices : NULL,
		.n_allowed = c->n_allowed_devices,
	};
	struct nvb_runtime_result res;
	int r = nvb_runtime_prepare(config, &opts, &res, err);
	if (nvb_runtime_needs_full() && nvb_dlopen_wanted()) /* nothing written yet */
		nvb_runtime_handoff(args, "this request needs NVML");
	if (r == 0) /* claims or MPS for the GPUs it now has (docs/isolation.md) */
		r = nvb_runtime_isolate(cfg, args, config, &res.modified, err);
	/* from here on every line of this create names the container and its request */
	nvb_log_set_context(&(struct nvb_log_fields){.container = args->container_id,
						     .request = res.devices, .gpus = res.gpus});
	if (r == 0 && res.modified)
		r = nvb_oci_config_save(args->bundle, config, err);
	if (r == 0)
		nvb_info("runtime", "%s %s: %s%s", args->command, args->bundle, res.summary,
			 res.legacy_hook ? " (replaced the --gpus prestart hook)" : "");
	if (r == 0 && out) {
		snprintf(out->devices, sizeof(out->devices), "%s", res.devices);
		snprintf(out->gpus, sizeof(out->gpus), "%s", res.gpus);
		snprintf(out->engine, sizeof(out->engine), "%s",
			 nvb_record_guess_engine(args->root, config));
	}
	json_decref(config);
	return r;
}

/* runc's and crun's state directory when --root is not given (as root) */
static const char *default_runtime_root(const char *low_level)
{
	return !strcmp(nvb_basename(low_level), "crun") ? "/run/crun" : "/run/runc";
}

static int split_words(const char *list, char ***v, size_t *n)
{
	_cleanup_free_ char *copy = strdup(list);
	char *save = NULL;
	if (!copy)
		return -1;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (nvb_strv_append(v, n, w) < 0)
			return -1;
	return 0;
}

void nvb_runtime_write_record(const struct nvb_runtime_args *args, const char *low_level,
			      const struct nvb_runtime_applied *res)
{
	if (!res->devices[0] || !args->container_id)
		return; /* no GPU (or only the driver): nothing to record */
	char bundle[PATH_MAX];
	if (!realpath(args->bundle, bundle))
		snprintf(bundle, sizeof(bundle), "%s", args->bundle);
	struct nvb_container_record rec = {
		.id = (char *)args->container_id,
		.bundle = bundle,
		.engine = (char *)res->engine,
		.runtime_root = (char *)(args->root ? args->root : default_runtime_root(low_level)),
		.created_unix = (int64_t)time(NULL),
	};
	struct nvb_error err;
	if (split_words(res->devices, &rec.devices, &rec.n_devices) < 0 ||
	    split_words(res->gpus, &rec.gpus, &rec.n_gpus) < 0)
		nvb_error_nomem(&err);
	else if (nvb_record_write(nvb_state_dir(), &rec, &err) == 0)
		err.code = NVB_OK;
	if (err.code != NVB_OK)
		nvb_warn("runtime", "no container record for %s: %s", args->container_id, err.message);
	for (size_t i = 0; i < rec.n_devices; i++)
		free(rec.devices[i]);
	free(rec.devices);
	for (size_t i = 0; i < rec.n_gpus; i++)
		free(rec.gpus[i]);
	free(rec.gpus);
}

void nvb_runtime_count(enum nvb_errc code, long long duration_us)
{
	struct nvb_error err;
	if (nvb_stats_add(nvb_state_dir(), code, (double)duration_us / 1e6, &err) < 0)
		nvb_warn("runtime", "counters not updated: %s", err.message);
	const char *name = code == NVB_OK ? NULL : nvb_errc_name(code);
	nvb_log_write_fields(code == NVB_OK ? NVB_LOG_INFO : NVB_LOG_ERROR, "runtime",
			     &(struct nvb_log_fields){.duration_us = duration_us, .error = name},
			     "%s before the low-level runtime", code == NVB_OK ? "done" : "failed");
}

void nvb_runtime_exec(const struct nvb_runtime_config *cfg, int argc, char **argv)
{
	(void)argc;
	argv[0] = (char *)cfg->low_level;
	execv(cfg->low_level, argv);
	fprintf(stderr, "nvbind-runtime: error: cannot execute %s: %s\n", cfg->low_level,
		strerror(errno));
}

bool nvb_runtime_needs_full(void)
{
#ifdef NVB_NO_DLOPEN
	return true;
#else
	return false;
#endif
}

void nvb_runtime_handoff(const struct nvb_runtime_args *args, const char *why)
{
#ifndef NVBIND_FULL_RUNTIME
#define NVBIND_FULL_RUNTIME "/usr/local/libexec/nvbind/nvbind-runtime"
#endif
	/* a build tree first (src/musl/nvbind-runtime and src/nvbind-runtime), so that a tree's
	 * musl wrapper never hands over to an installed wrapper of another version; then where
	 * the build installs it */
	char path[PATH_MAX] = NVBIND_FULL_RUNTIME;
	_cleanup_free_ char *here = nvb_sibling_program("../nvbind-runtime", "/nonexistent");
	if (here && access(here, X_OK) == 0)
		snprintf(path, sizeof(path), "%s", here);
	nvb_log(NVB_LOG_DEBUG, "runtime", "%s: %s; handing over to %s", args->command ? args->command : "?",
		why, path);
	execv(path, args->argv);
	fprintf(stderr,
		"nvbind-runtime: error: %s, which this static build cannot load; its glibc build %s "
		"cannot be executed: %s\n"
		"hint: reinstall nvbind ('ninja -C build install' installs both builds)\n",
		why, path, strerror(errno));
	_exit(1);
}

int nvb_runtime_legacy_hook(int argc, char **argv)
{
	(void)argc;
	/* A container started with --gpus but not through nvbind-runtime (--runtime nvidia, or
	 * runc): where NVIDIA's toolkit is still installed, its hook does the work as before. */
	char other[PATH_MAX];
	/* the guard stops any chain of hand-overs between copies after one step */
	if (!getenv("NVBIND_HOOK_HANDOVER") &&
	    path_search("nvidia-container-runtime-hook", other, sizeof(other))) {
		setenv("NVBIND_HOOK_HANDOVER", "1", 1);
		execv(other, argv);
		fprintf(stderr, "nvidia-container-runtime-hook (nvbind): cannot run %s: %s\n", other,
			strerror(errno));
		return 1;
	}
	fprintf(stderr,
		"nvidia-container-runtime-hook (nvbind): this container was started without the nvbind "
		"runtime, so its GPU request cannot be honoured.\n"
		"hint: run it with --runtime nvbind, or make nvbind the default runtime "
		"('nvbind setup docker --default')\n");
	return 1;
}

/* in, quoted as logfmt (Go's strconv.Quote) does inside "...": \\ \" \n \r \t, and \xNN for
 * other control bytes. */
static void logfmt_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 5 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		const char *esc = c == '\\' ? "\\\\" : c == '"' ? "\\\"" : c == '\n' ? "\\n"
				  : c == '\r' ? "\\r" : c == '\t' ? "\\t" : NULL;
		if (esc)
			o += (size_t)snprintf(out + o, cap - o, "%s", esc);
		else if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void nvb_runtime_report(const struct nvb_runtime_args *args, const struct nvb_error *err)
{
	nvb_log(NVB_LOG_ERROR, "runtime", "%s: %s", args->command ? args->command : "?", err->message);
	fprintf(stderr, "nvbind-runtime: error: %s\n", err->message);
	if (err->hint[0])
		fprintf(stderr, "hint: %s\n", err->hint);
	if (!args->log_path)
		return;
	/* containerd and podman show the last error line of this file to the user */
	char msg[NVB_ERROR_MSG_MAX + NVB_ERROR_HINT_MAX + 64];
	snprintf(msg, sizeof(msg), "nvbind: %s%s%s", err->message, err->hint[0] ? " (hint: " : "",
		 err->hint[0] ? err->hint : "");
	if (err->hint[0])
		strncat(msg, ")", sizeof(msg) - strlen(msg) - 1);
	FILE *f = fopen(args->log_path, "ae");
	if (!f)
		return;
	char ts[40];
	nvb_utc_stamp(time(NULL), ts, sizeof(ts));
	if (args->log_format && !strcmp(args->log_format, "json")) {
		json_t *line = json_pack("{s:s, s:s, s:s}", "level", "error", "msg", msg, "time", ts);
		char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
		if (text)
			fprintf(f, "%s\n", text);
		free(text);
		json_decref(line);
	} else {
		/* logfmt, as runc writes it: a quote or a newline in a message (a device name from
		 * the container's environment) must not end the value or forge a line */
		char quoted[4 * sizeof(msg) + 1];
		logfmt_escape(quoted, sizeof(quoted), msg);
		fprintf(f, "time=\"%s\" level=error msg=\"%s\"\n", ts, quoted);
	}
	fclose(f);
}

/* ------------------------------------------------- checkpoint / restore (docs/snapshot.md) */

/* Run argv as a child and wait: its exit status, 128+signal, or 127 when it cannot start.
 * stdout_to_stderr: the child's output goes where the runtime's errors go, never into the
 * engine's reading of our stdout. */
int nvb_runtime_run_wait(char *const argv[], bool stdout_to_stderr)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (stdout_to_stderr)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "nvbind-runtime: cannot execute %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int status = 0;
	if (pid < 0)
		return 127;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 127;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* `nvbind gpu OP --container ID --runtime LOW --runtime-root ROOT`: the GPU step, done by the
 * nvbind command so that this static wrapper never loads libcuda. Its exit status. */
static int gpu_step(const char *op, const struct nvb_runtime_args *args, const char *low_level)
{
	_cleanup_free_ char *nvbind = nvb_sibling_program("nvbind", NVBIND_BINDIR);
	if (!nvbind)
		return 127;
	const char *root = args->root ? args->root : default_runtime_root(low_level);
	char *const argv[] = {nvbind, "gpu", (char *)op, "--container", (char *)args->container_id,
			      "--runtime", (char *)low_level, "--runtime-root", (char *)root, NULL};
	nvb_info("runtime", "%s: nvbind gpu %s --container %s", args->command, op,
		 args->container_id);
	return nvb_runtime_run_wait(argv, true);
}

static int gpu_failed(const struct nvb_runtime_args *args, const char *op, int rc,
		      const char *after)
{
	struct nvb_error err;
	nvb_error_set(&err, NVB_ERR_DRIVER, 0,
		      "see 'nvbind gpu state --container ID' (docs/snapshot.md)",
		      "nvbind gpu %s of container %s failed (exit status %d)%s", op,
		      args->container_id, rc, after);
	nvb_runtime_report(args, &err);
	return 1;
}

/* restore without --detach: the low-level runtime stays in the foreground while the container
 * runs, so a child waits for the restored container (its state answers) and restores the GPU
 * state then, while this process becomes the runtime. */
static void restore_later(const struct nvb_runtime_args *args, const char *low_level)
{
	pid_t pid = fork();
	if (pid != 0)
		return;
	setsid();
	for (int i = 0; i < 600; i++) { /* a minute */
		struct timespec ts = {0, 100 * 1000 * 1000};
		nanosleep(&ts, NULL);
		const char *root = args->root ? args->root : default_runtime_root(low_level);
		char *const argv[] = {(char *)low_level, "--root", (char *)root, "state",
				      (char *)args->container_id, NULL};
		pid_t c = fork();
		if (c == 0) {
			int null = open("/dev/null", O_WRONLY);
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
			execv(argv[0], argv);
			_exit(127);
		}
		int status = 0;
		if (c < 0 || waitpid(c, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			continue;
		int rc = gpu_step("restore", args, low_level);
		if (rc != 0)
			gpu_failed(args, "restore", rc, " after the container was restored");
		_exit(rc);
	}
	_exit(1);
}

int nvb_runtime_snapshot(const struct nvb_runtime_args *args, int argc, char **argv)
{
	char low_level[PATH_MAX];
	nvb_runtime_passthrough_low_level(args, low_level, sizeof(low_level));
	struct nvb_runtime_config cfg;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.low_level, sizeof(cfg.low_level), "%s", low_level);
	if (!strcmp(args->command, "restore")) {
		if (!args->detach) {
			restore_later(args, low_level);
			nvb_runtime_exec(&cfg, argc, argv);
			return 127;
		}
		argv[0] = low_level;
		int rc = nvb_runtime_run_wait(argv, false);
		if (rc != 0)
			return rc;
		int g = gpu_step("restore", args, low_level);
		return g == 0 ? 0 : gpu_failed(args, "restore", g, " after the container was restored");
	}
	/* checkpoint; a pre-dump leaves the process running and its GPU state alone */
	if (args->pre_dump) {
		nvb_runtime_exec(&cfg, argc, argv);
		return 127;
	}
	int g = gpu_step("checkpoint", args, low_level);
	if (g != 0)
		return gpu_failed(args, "checkpoint", g,
				  g == 4 ? ": some processes could not be undone; the container "
					   "was not checkpointed"
					 : ": the container was not checkpointed and keeps running");
	argv[0] = low_level;
	int rc = nvb_runtime_run_wait(argv, false);
	/* the container runs on when the checkpoint failed or was asked to leave it running: its
	 * GPU state must come back */
	if (rc != 0 || args->leave_running) {
		g = gpu_step("restore", args, low_level);
		if (g != 0)
			gpu_failed(args, "restore", g,
				   rc ? " after the low-level checkpoint failed"
				      : " after a checkpoint with --leave-running");
		if (rc == 0 && g != 0)
			rc = 1;
	}
	return rc;
}
