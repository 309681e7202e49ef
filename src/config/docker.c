/* SPDX-License-Identifier: Apache-2.0 */
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <time.h>

#include "cdi/cdi.h"
#include "config/engines.h"

#define ENGINE_CONFIG_MAX (4u << 20)

char *nvb_docker_register(const char *text, const char *origin, const char *runtime_path,
			  bool make_default, bool *changed, struct nvb_error *err)
{
	json_t *root;
	*changed = false;
	if (!text || strspn(text, " \t\r\n") == strlen(text)) { /* no file yet */
		root = json_object();
	} else {
		json_error_t jerr;
		/* exact: every number is written back as the user wrote it (0.1 stays 0.1, a
		 * uint64 ulimit stays as it is) */
		root = nvb_json_loadb_exact(text, strlen(text), JSON_REJECT_DUPLICATES, true, &jerr);
		if (!root) {
			nvb_error_set(err, NVB_ERR_PARSE, 0,
				      "fix the file (or move it away) and run the command again",
				      "%s:%d:%d: %s: refusing to rewrite a file nvbind cannot parse",
				      origin, jerr.line, jerr.column, jerr.text);
			return NULL;
		}
	}
	char *out = NULL;
	json_t *runtimes = json_object_get(root, "runtimes");
	if (!json_is_object(root) || (runtimes && !json_is_object(runtimes))) {
		nvb_error_set(err, NVB_ERR_INVALID, 0, "fix the file and run the command again",
			      "%s: %s is not a JSON object: refusing to rewrite it", origin,
			      json_is_object(root) ? "\"runtimes\"" : "the document");
		goto out;
	}
	if (!runtimes) {
		runtimes = json_object();
		json_object_set_new(root, "runtimes", runtimes);
	}
	json_t *entry = json_object_get(runtimes, NVB_RUNTIME_NAME);
	const char *old_path = json_string_value(json_object_get(entry, "path"));
	if (!old_path || strcmp(old_path, runtime_path) != 0) {
		json_object_set_new(runtimes, NVB_RUNTIME_NAME, json_pack("{s:s}", "path", runtime_path));
		*changed = true;
	}
	const char *old_default = json_string_value(json_object_get(root, "default-runtime"));
	if (make_default && (!old_default || strcmp(old_default, NVB_RUNTIME_NAME) != 0)) {
		json_object_set_new(root, "default-runtime", json_string(NVB_RUNTIME_NAME));
		*changed = true;
	}
	char *dump = nvb_json_dumps_exact(root, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
	out = dump ? nvb_asprintf("%s\n", dump) : NULL;
	free(dump);
	if (!out)
		nvb_error_nomem(err);
out:
	json_decref(root);
	return out;
}

char *nvb_default_runtime_path(const char *bindir)
{
	return nvb_sibling_program("nvbind-runtime", bindir);
}

int nvb_engine_config_read(const char *path, char **text, unsigned *mode, bool *exists,
			   struct nvb_error *err)
{
	*exists = false;
	*mode = 0644;
	/* never blocks: a FIFO (or a directory, a device) is refused at once */
	struct nvb_error oerr;
	int fd = nvb_open_regular(AT_FDCWD, path, 0, "engine configuration", &oerr);
	if (fd < 0 && oerr.sys_errno == ENOENT) {
		*text = strdup("");
		return *text ? 0 : nvb_error_nomem(err);
	}
	if (fd < 0) {
		*err = oerr;
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0)
		*mode = st.st_mode & 0777;
	*exists = true;
	int r = nvb_read_fd(fd, path, ENGINE_CONFIG_MAX, text, NULL, err);
	close(fd);
	return r;
}

static int backup(const char *path, const char *text, unsigned mode, char **backup_path,
		  struct nvb_error *err)
{
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	*backup_path = nvb_asprintf("%s.nvbind-backup-%s", path, stamp);
	/* two edits in one second (setup, then migrate) must not overwrite the first backup */
	for (int i = 1; *backup_path && access(*backup_path, F_OK) == 0 && i < 1000; i++) {
		free(*backup_path);
		*backup_path = nvb_asprintf("%s.nvbind-backup-%s-%d", path, stamp, i);
	}
	if (!*backup_path)
		return nvb_error_nomem(err);
	return nvb_write_file_atomic(*backup_path, text, strlen(text), mode, err);
}

int nvb_engine_config_write(const char *path, const char *old_text, const char *new_text,
			    unsigned mode, bool exists, char **backup_path, struct nvb_error *err)
{
	*backup_path = NULL;
	if (exists && backup(path, old_text, mode, backup_path, err) < 0) {
		free(*backup_path);
		*backup_path = NULL;
		return -1;
	}
	char *dir = strdup(path);
	char *slash = dir ? strrchr(dir, '/') : NULL;
	if (slash && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755); /* /etc/docker may not exist yet */
	}
	free(dir);
	/* through a symbolic link to the file it names, with that file's owner and mode */
	return nvb_write_file_through(path, new_text, strlen(new_text), mode, err);
}
