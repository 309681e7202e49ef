/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CDI: the validator (every rule of docs/design/cdi-semantics.md, with messages naming the file, the
 * device and the field), minimum versions, the JSON/YAML codec and atomic writes, the registry of
 * spec directories, qualified names and generation from an inventory.
 *
 * Spec texts are written with single quotes for readability; jq() turns them into double quotes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cdi/cdi.h"
#include "host/libscan.h"

/* ------------------------------------------------------------------ helpers */

static char *jq(const char *s)
{
	char *t = strdup(s);
	assert_non_null(t);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

static struct nvb_cdi_spec *parse_text(const char *text, const char *origin, struct nvb_error *err)
{
	char *t = jq(text);
	struct nvb_cdi_spec *spec = nvb_cdi_spec_parse(t, strlen(t), origin, err);
	free(t);
	return spec;
}

struct msgs {
	char buf[16384];
	int n;
};

static void collect(void *ctx, const char *m)
{
	struct msgs *ms = ctx;
	size_t len = strlen(ms->buf);
	snprintf(ms->buf + len, sizeof(ms->buf) - len, "%s\n", m);
	ms->n++;
}

/* The text parses, fails validation, and one of the reported problems contains want (which names
 * the origin, the device and the field). The first problem also fills err. */
static void expect_invalid(const char *text, const char *origin, const char *want)
{
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = parse_text(text, origin, &err);
	if (!spec)
		print_error("unexpected parse error: %s\n", err.message);
	assert_non_null(spec);
	struct msgs ms = {.n = 0};
	ms.buf[0] = '\0';
	int n = nvb_cdi_validate(spec, collect, &ms, &err);
	if (n <= 0 || !strstr(ms.buf, want))
		print_error("validate=%d, wanted \"%s\" in:\n%s", n, want, ms.buf);
	assert_true(n > 0);
	assert_int_equal(n, ms.n);
	assert_non_null(strstr(ms.buf, want));
	/* the first problem is in err, and names the file */
	assert_int_equal(err.code, NVB_ERR_INVALID);
	assert_true(nvb_str_has_prefix(err.message, origin));
	assert_true(nvb_str_has_prefix(ms.buf, err.message));
	/* reporting is optional: the count does not depend on it */
	struct nvb_error err2 = {0};
	assert_int_equal(nvb_cdi_validate(spec, NULL, NULL, &err2), n);
	assert_string_equal(err2.message, err.message);
	nvb_cdi_spec_free(spec);
}

/* The text is refused by the reader, with a message containing want. */
static void expect_parse_error(const char *text, const char *origin, const char *want)
{
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = parse_text(text, origin, &err);
	if (spec || !strstr(err.message, want))
		print_error("wanted parse error \"%s\", got %s \"%s\"\n", want,
			    spec ? "success" : "error", err.message);
	assert_null(spec);
	assert_non_null(strstr(err.message, want));
	assert_true(nvb_str_has_prefix(err.message, origin));
	assert_true(err.code == NVB_ERR_INVALID || err.code == NVB_ERR_PARSE);
}

static void expect_valid(const char *text, const char *origin)
{
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = parse_text(text, origin, &err);
	if (!spec)
		print_error("unexpected parse error: %s\n", err.message);
	assert_non_null(spec);
	struct msgs ms = {.n = 0};
	ms.buf[0] = '\0';
	int n = nvb_cdi_validate(spec, collect, &ms, &err);
	if (n)
		print_error("unexpected problems:\n%s", ms.buf);
	assert_int_equal(n, 0);
	assert_int_equal(err.code, NVB_OK);
	assert_string_equal(spec->origin, origin);
	nvb_cdi_spec_free(spec);
}

static const char *tmp_base(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static char *make_tmpdir(void)
{
	char *dir = nvb_asprintf("%s/nvb-cdi-XXXXXX", tmp_base());
	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(char *dir)
{
	if (dir)
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

static void write_text(const char *dir, const char *name, const char *text)
{
	char *path = nvb_asprintf("%s/%s", dir, name);
	char *t = jq(text);
	assert_non_null(path);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(t, f);
	assert_int_equal(fclose(f), 0);
	free(t);
	free(path);
}

static char *read_text(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;) {
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

/* Entries of dir other than "." and "..". */
static size_t count_entries(const char *dir, char *first, size_t cap)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n++ == 0 && first)
			snprintf(first, cap, "%s", de->d_name);
	}
	closedir(d);
	return n;
}

/* A small valid device list, for specs that only need one device. */
#define HDR(v) "{'cdiVersion':'" v "','kind':'nvidia.com/gpu',"
#define DEV0 "'devices':[{'name':'0','containerEdits':{'deviceNodes':[{'path':'/dev/nvidia0'}]}}]"

/* ---------------------------------------------------------------- validator */

static void test_valid_specs(void **state)
{
	(void)state;
	expect_valid(HDR("0.5.0") DEV0 "}", "test.json");
	expect_valid(HDR("0.3.0")
		     "'devices':[{'name':'gpu0','containerEdits':{'env':['A=1','B=']}}],"
		     "'containerEdits':{'env':['NVIDIA_VISIBLE_DEVICES=void']}}",
		     "test.json");
	/* every field of 0.5.0 */
	expect_valid(HDR("0.5.0")
		     "'devices':[{'name':'0','containerEdits':{"
		     "'env':['A=1'],"
		     "'deviceNodes':[{'path':'/dev/nvidia0','hostPath':'/host/dev/nvidia0','type':'c',"
		     "'major':195,'minor':0,'fileMode':8630,'permissions':'rw','uid':0,'gid':44}],"
		     "'mounts':[{'hostPath':'/usr/lib/libcuda.so.1','containerPath':'/usr/lib/libcuda.so.1',"
		     "'type':'bind','options':['ro','nosuid','nodev','bind']}],"
		     "'hooks':[{'hookName':'createContainer','path':'/usr/bin/nvbind',"
		     "'args':['nvbind','hook'],'env':['PATH=/bin'],'timeout':10}]}},"
		     "{'name':'GPU-0a1b','containerEdits':{'deviceNodes':[{'path':'/dev/nvidia1'}]}},"
		     "{'name':'mig0:1','containerEdits':{'deviceNodes':[{'path':'/dev/nvidia1'}]}},"
		     "{'name':'all','containerEdits':{'deviceNodes':[{'path':'/dev/nvidia0'},"
		     "{'path':'/dev/nvidia1'}]}}],"
		     "'containerEdits':{'env':['NVIDIA_VISIBLE_DEVICES=void']}}",
		     "test.json");
	/* newer fields with the version they need */
	expect_valid("{'cdiVersion':'0.6.0','kind':'vendor.io/class.sub','annotations':{'a':'b'},"
		     "'devices':[{'name':'x','annotations':{'c':'d'},"
		     "'containerEdits':{'env':['A=1']}}]}",
		     "test.json");
	expect_valid(HDR("0.7.0") "'devices':[{'name':'x','containerEdits':{'additionalGids':[44,"
				  "107],'intelRdt':{'closID':'c1'}}}]}",
		     "test.json");
	expect_valid(HDR("1.1.0") "'devices':[{'name':'x','containerEdits':{'netDevices':"
				  "[{'hostInterfaceName':'eth0','name':'eth1'}]}}]}",
		     "test.json");
	/* a newer version than needed is fine */
	expect_valid(HDR("1.0.0") DEV0 "}", "test.json");
	/* YAML */
	expect_valid("cdiVersion: 0.5.0\n"
		     "kind: nvidia.com/gpu\n"
		     "devices:\n"
		     "- name: '0'\n"
		     "  containerEdits:\n"
		     "    deviceNodes:\n"
		     "    - path: /dev/nvidia0\n"
		     "      hostPath: /dev/nvidia0\n"
		     "      major: 195\n"
		     "      minor: 0\n"
		     "containerEdits:\n"
		     "  env: [NVIDIA_VISIBLE_DEVICES=void]\n"
		     "  hooks:\n"
		     "  - hookName: createContainer\n"
		     "    path: /usr/bin/nvbind\n"
		     "    args: [nvbind, hook, update-ldcache]\n",
		     "test.yaml");
	/* JSON is YAML too: a .yaml file may hold JSON */
	expect_valid(HDR("0.5.0") DEV0 "}", "test.yaml");
}

static void test_env_without_equals(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['FOO']}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.env: entry 0 \"FOO\" is not NAME=VALUE");
	expect_invalid(HDR("0.5.0") DEV0 ",'containerEdits':{'env':['A=1','FOO']}}", "test.json",
		       "test.json: containerEdits.env: entry 1 \"FOO\" is not NAME=VALUE");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n"
		       "- name: gpu0\n  containerEdits:\n    env:\n    - FOO\n",
		       "test.yaml",
		       "test.yaml: device \"gpu0\": containerEdits.env: entry 0 \"FOO\" is not NAME=VALUE");
	/* in a hook's environment */
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'hooks':[{'hookName':"
				    "'createContainer','path':'/bin/true','env':['A=1','LD_PRELOAD']}]}}]}",
		       "test.json",
		       "test.json: device \"0\": containerEdits.hooks[0].env: entry 1 \"LD_PRELOAD\"");
}

static void test_env_equals_first(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['=x']}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.env: entry 0 \"=x\" is not NAME=VALUE");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['=']}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.env: entry 0 \"=\"");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['']}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.env: entry 0 \"\"");
}

static void test_unknown_hook_name(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'hooks':[{'hookName':"
				    "'preStart','path':'/bin/true'}]}}]}",
		       "test.json",
		       "test.json: device \"0\": containerEdits.hooks[0]: hookName \"preStart\" is not one of");
	expect_invalid(HDR("0.5.0") DEV0 ",'containerEdits':{'hooks':[{'hookName':'createContainer',"
					 "'path':'/bin/true'},{'hookName':'','path':'/bin/true'}]}}",
		       "test.json", "test.json: containerEdits.hooks[1]: hookName \"\" is not one of");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits:\n    hooks:\n    - hookName: postStart\n      path: /bin/true\n",
		       "test.yaml",
		       "test.yaml: device \"gpu0\": containerEdits.hooks[0]: hookName \"postStart\"");
	/* every valid name is accepted */
	static const char *const names[] = {"prestart",	      "createRuntime", "createContainer",
					    "startContainer", "poststart",     "poststop"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(names); i++) {
		char text[512];
		snprintf(text, sizeof(text),
			 HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'hooks':[{'hookName':"
				      "'%s','path':'/bin/true'}]}}]}",
			 names[i]);
		expect_valid(text, "test.json");
	}
	/* a hook without a path */
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'hooks':[{'hookName':"
				    "'prestart','path':''}]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.hooks[0]: path is empty");
}

static void test_empty_device_node_path(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':[{'path':''}]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.deviceNodes[0]: path is empty");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':["
				    "{'path':'/dev/nvidia0'},{'path':'/dev/nvidia1','hostPath':''}]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.deviceNodes[1]: hostPath is empty");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits:\n    deviceNodes:\n    - path: ''\n",
		       "test.yaml", "test.yaml: device \"gpu0\": containerEdits.deviceNodes[0]: path is empty");
	/* a missing path is a reader error */
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':[{'type':'c'}]}}]}",
			   "test.json",
			   "test.json: device \"0\": containerEdits.deviceNodes[0].path: required field is missing");
}

static void test_empty_mount_paths(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'mounts':[{'hostPath':'',"
				    "'containerPath':'/x'}]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.mounts[0]: hostPath is empty");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'mounts':[{'hostPath':'/x',"
				    "'containerPath':'/x'},{'hostPath':'/x','containerPath':''}]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits.mounts[1]: containerPath is empty");
	expect_invalid(HDR("0.5.0") DEV0 ",'containerEdits':{'mounts':[{'hostPath':'',"
					 "'containerPath':'/x'}]}}",
		       "test.json", "test.json: containerEdits.mounts[0]: hostPath is empty");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits:\n    mounts:\n    - hostPath: /x\n      containerPath: \"\"\n",
		       "test.yaml", "test.yaml: device \"gpu0\": containerEdits.mounts[0]: containerPath is empty");
}

static void test_device_without_edits(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{}}]}", "test.json",
		       "test.json: device \"0\": containerEdits: the device has no edits");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'gpu1'}]}", "test.json",
		       "test.json: device \"gpu1\": containerEdits: the device has no edits");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':[],'deviceNodes':[]}}]}",
		       "test.json", "test.json: device \"0\": containerEdits: the device has no edits");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits: {}\n",
		       "test.yaml", "test.yaml: device \"gpu0\": containerEdits: the device has no edits");
	/* a spec with no device at all */
	expect_invalid(HDR("0.5.0") "'devices':[]}", "test.json",
		       "test.json: devices: the spec defines no device");
}

static void test_duplicate_device_names(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['A=1']}},"
				    "{'name':'1','containerEdits':{'env':['A=1']}},"
				    "{'name':'0','containerEdits':{'env':['A=2']}}]}",
		       "test.json", "test.json: device \"0\": name: duplicate device name (also devices[0])");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n"
		       "- name: gpu0\n  containerEdits: {env: [A=1]}\n"
		       "- name: gpu0\n  containerEdits: {env: [A=1]}\n",
		       "test.yaml", "test.yaml: device \"gpu0\": name: duplicate device name");
}

static void test_unknown_fields(void **state)
{
	(void)state;
	expect_parse_error(HDR("0.5.0") DEV0 ",'foo':1}", "test.json",
			   "test.json: foo: unknown field");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','foo':'x','containerEdits':{'env':['A=1']}}]}",
			   "test.json", "test.json: device \"0\".foo: unknown field");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['A=1'],'envs':[]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.envs: unknown field");
	expect_parse_error(HDR("0.5.0") DEV0 ",'containerEdits':{'devices':[]}}", "test.json",
			   "test.json: containerEdits.devices: unknown field");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':"
					"[{'path':'/dev/nvidia0','mode':438}]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.deviceNodes[0].mode: unknown field");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'mounts':"
					"[{'hostPath':'/a','containerPath':'/a','readonly':true}]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.mounts[0].readonly: unknown field");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'hooks':"
					"[{'hookName':'prestart','path':'/bin/true','argv':[]}]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.hooks[0].argv: unknown field");
	expect_parse_error(HDR("0.5.0") DEV0 ",'containerEdits':{'hooks':"
					     "[{'hookName':'prestart','path':'/bin/true','when':{}}]}}",
			   "test.json", "test.json: containerEdits.hooks[0].when: unknown field");
	/* YAML, same messages */
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\nversion: 1\ndevices: []\n",
			   "test.yaml", "test.yaml: version: unknown field");
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia0\n      owner: 0\n",
			   "test.yaml",
			   "test.yaml: device \"gpu0\": containerEdits.deviceNodes[0].owner: unknown field");
}

static void test_invalid_kind(void **state)
{
	(void)state;
	expect_invalid("{'cdiVersion':'0.5.0','kind':'n/gpu'," DEV0 "}", "test.json",
		       "test.json: kind: \"n/gpu\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com/g'," DEV0 "}", "test.json",
		       "test.json: kind: \"nvidia.com/g\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com/0gpu'," DEV0 "}", "test.json",
		       "test.json: kind: \"nvidia.com/0gpu\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'1nvidia.com/gpu'," DEV0 "}", "test.json",
		       "test.json: kind: \"1nvidia.com/gpu\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com-/gpu'," DEV0 "}", "test.json",
		       "test.json: kind: \"nvidia.com-/gpu\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com'," DEV0 "}", "test.json",
		       "test.json: kind: \"nvidia.com\" is not vendor/class");
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu/x'," DEV0 "}", "test.json",
		       "test.json: kind: \"nvidia.com/gpu/x\" is not vendor/class");
	/* a dot in the class needs 0.6.0 */
	expect_invalid("{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu.x'," DEV0 "}", "test.json",
		       "test.json: kind: a '.' in the class \"nvidia.com/gpu.x\" needs cdiVersion 0.6.0");
	expect_valid("{'cdiVersion':'0.6.0','kind':'nvidia.com/gpu.x'," DEV0 "}", "test.json");
	expect_invalid("cdiVersion: 0.5.0\nkind: v/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits: {env: [A=1]}\n",
		       "test.yaml", "test.yaml: kind: \"v/gpu\" is not vendor/class");
	/* kind is required */
	expect_parse_error("{'cdiVersion':'0.5.0'," DEV0 "}", "test.json",
			   "test.json: kind: required field is missing");

	assert_true(nvb_cdi_valid_kind("nvidia.com/gpu", false));
	assert_true(nvb_cdi_valid_kind("ab/cd", false));
	assert_true(nvb_cdi_valid_kind("a_b-c.d/e_f-g", false));
	assert_false(nvb_cdi_valid_kind("a/gpu", false));
	assert_false(nvb_cdi_valid_kind("nvidia.com/g", true));
	assert_false(nvb_cdi_valid_kind("nvidia.com/9gpu", true));
	assert_false(nvb_cdi_valid_kind("nvidia.com/gpu.x", false));
	assert_true(nvb_cdi_valid_kind("nvidia.com/gpu.x", true));
	assert_false(nvb_cdi_valid_kind("nvidia.com/gpu.", true));
	assert_false(nvb_cdi_valid_kind("/gpu", true));
	assert_false(nvb_cdi_valid_kind("nvidia.com/", true));
	assert_false(nvb_cdi_valid_kind("", true));
}

static void test_invalid_device_names(void **state)
{
	(void)state;
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'-a','containerEdits':{'env':['A=1']}}]}",
		       "test.json", "test.json: device \"-a\": name: \"-a\" is not a valid device name");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'mig0:','containerEdits':{'env':['A=1']}}]}",
		       "test.json", "test.json: device \"mig0:\": name: \"mig0:\" is not a valid device name");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'a/b','containerEdits':{'env':['A=1']}}]}",
		       "test.json", "test.json: device \"a/b\": name: \"a/b\" is not a valid device name");
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'','containerEdits':{'env':['A=1']}}]}",
		       "test.json", "test.json: device \"\": name: \"\" is not a valid device name");
	expect_invalid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: 'gpu 0'\n"
		       "  containerEdits: {env: [A=1]}\n",
		       "test.yaml", "test.yaml: device \"gpu 0\": name: \"gpu 0\" is not a valid device name");
	/* the name is required */
	expect_parse_error(HDR("0.5.0") "'devices':[{'containerEdits':{'env':['A=1']}}]}", "test.json",
			   "test.json: devices[0].name: required field is missing");

	assert_true(nvb_cdi_valid_device_name("0"));
	assert_true(nvb_cdi_valid_device_name("a"));
	assert_true(nvb_cdi_valid_device_name("mig0:1"));
	assert_true(nvb_cdi_valid_device_name("GPU-4f3a_b.c"));
	assert_false(nvb_cdi_valid_device_name(""));
	assert_false(nvb_cdi_valid_device_name("-a"));
	assert_false(nvb_cdi_valid_device_name("a:"));
	assert_false(nvb_cdi_valid_device_name("a/b"));
	assert_false(nvb_cdi_valid_device_name(":"));
	assert_false(nvb_cdi_valid_device_name("a b"));
	assert_false(nvb_cdi_valid_device_name("a=b"));
}

static void test_version_too_low(void **state)
{
	(void)state;
	/* hostPath needs 0.5.0 */
	expect_invalid(HDR("0.4.0") "'devices':[{'name':'gpu0','containerEdits':{'deviceNodes':"
				    "[{'path':'/dev/nvidia0','hostPath':'/dev/nvidia0'}]}}]}",
		       "test.json",
		       "test.json: cdiVersion: \"0.4.0\" is too old for what the spec uses: it needs at least \"0.5.0\"");
	/* a digit-first device name needs 0.5.0 */
	expect_invalid(HDR("0.4.0") DEV0 "}", "test.json",
		       "test.json: cdiVersion: \"0.4.0\" is too old for what the spec uses: it needs at least \"0.5.0\"");
	/* a mount type needs 0.4.0 */
	expect_invalid(HDR("0.3.0") "'devices':[{'name':'gpu0','containerEdits':{'mounts':"
				    "[{'hostPath':'/a','containerPath':'/a','type':'bind'}]}}]}",
		       "test.json",
		       "test.json: cdiVersion: \"0.3.0\" is too old for what the spec uses: it needs at least \"0.4.0\"");
	/* annotations need 0.6.0 */
	expect_invalid(HDR("0.5.0") "'devices':[{'name':'gpu0','annotations':{'a':'b'},"
				    "'containerEdits':{'env':['A=1']}}]}",
		       "test.json",
		       "test.json: cdiVersion: \"0.5.0\" is too old for what the spec uses: it needs at least \"0.6.0\"");
	expect_invalid(HDR("0.5.0") "'annotations':{'a':'b'}," DEV0 "}", "test.json",
		       "test.json: cdiVersion: \"0.5.0\" is too old for what the spec uses: it needs at least \"0.6.0\"");
	/* additionalGids need 0.7.0 */
	expect_invalid(HDR("0.6.0") "'devices':[{'name':'gpu0','containerEdits':{'additionalGids':[44]}}]}",
		       "test.json",
		       "test.json: cdiVersion: \"0.6.0\" is too old for what the spec uses: it needs at least \"0.7.0\"");
	expect_invalid(HDR("0.6.0") DEV0 ",'containerEdits':{'intelRdt':{'closID':'x'}}}", "test.json",
		       "test.json: cdiVersion: \"0.6.0\" is too old for what the spec uses: it needs at least \"0.7.0\"");
	expect_invalid(HDR("1.0.0") DEV0 ",'containerEdits':{'netDevices':[{'hostInterfaceName':'e',"
					 "'name':'e'}]}}",
		       "test.json",
		       "test.json: cdiVersion: \"1.0.0\" is too old for what the spec uses: it needs at least \"1.1.0\"");
	expect_invalid("cdiVersion: 0.4.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits:\n    deviceNodes:\n    - {path: /dev/nvidia0, hostPath: /dev/nvidia0}\n",
		       "test.yaml",
		       "test.yaml: cdiVersion: \"0.4.0\" is too old for what the spec uses: it needs at least \"0.5.0\"");
}

static void test_unknown_version(void **state)
{
	(void)state;
	expect_invalid(HDR("0.9.9") DEV0 "}", "test.json",
		       "test.json: cdiVersion: \"0.9.9\" is not a known CDI version");
	expect_invalid(HDR("0.5") DEV0 "}", "test.json",
		       "test.json: cdiVersion: \"0.5\" is not a known CDI version");
	expect_invalid(HDR("") DEV0 "}", "test.json",
		       "test.json: cdiVersion: \"\" is not a known CDI version");
	expect_invalid("cdiVersion: 2.0.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		       "  containerEdits: {env: [A=1]}\n",
		       "test.yaml", "test.yaml: cdiVersion: \"2.0.0\" is not a known CDI version");
	expect_parse_error("{'kind':'nvidia.com/gpu'," DEV0 "}", "test.json",
			   "test.json: cdiVersion: required field is missing");
	/* comparison */
	assert_int_equal(nvb_cdi_version_cmp("0.5.0", "0.5.0"), 0);
	assert_true(nvb_cdi_version_cmp("0.4.0", "0.5.0") < 0);
	assert_true(nvb_cdi_version_cmp("0.10.0", "0.9.0") > 0);
	assert_true(nvb_cdi_version_cmp("1.0.0", "0.8.0") > 0);
	assert_true(nvb_cdi_version_cmp("0.5.1", "0.5.0") > 0);
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':"
					"[{'path':'/dev/nvidia0','major':'195'}]}}]}",
			   "test.json",
			   "test.json: device \"0\": containerEdits.deviceNodes[0].major: must be an integer");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'mounts':"
					"[{'hostPath':'/a','containerPath':'/a','options':'ro,bind'}]}}]}",
			   "test.json",
			   "test.json: device \"0\": containerEdits.mounts[0].options: must be a list of strings");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':{'A':'1'}}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.env: must be a list of strings");
	expect_parse_error(HDR("0.5.0") DEV0 ",'containerEdits':{'env':{'A':'1'}}}", "test.json",
			   "test.json: containerEdits.env: must be a list of strings");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['A=1',2]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.env[1]: must be a string");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'deviceNodes':"
					"[{'path':'/dev/nvidia0','minor':-1}]}}]}",
			   "test.json", "test.json: device \"0\": containerEdits.deviceNodes[0].minor: -1 is out of range");
	expect_parse_error(HDR("0.5.0") "'devices':{'0':{}}}", "test.json",
			   "test.json: devices: must be a list");
	expect_parse_error("{'cdiVersion':0.5,'kind':'nvidia.com/gpu'," DEV0 "}", "test.json",
			   "test.json: cdiVersion: must be a string");
	expect_parse_error("[]", "test.json", "test.json: a CDI spec must be a map");
	expect_parse_error("{", "test.json", "test.json:");
	/* YAML: quoting makes a string, a bare number is an integer */
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia0\n      major: \"195\"\n",
			   "test.yaml",
			   "test.yaml: device \"gpu0\": containerEdits.deviceNodes[0].major: must be an integer");
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    mounts:\n    - hostPath: /a\n      containerPath: /a\n"
			   "      options: ro\n",
			   "test.yaml",
			   "test.yaml: device \"gpu0\": containerEdits.mounts[0].options: must be a list of strings");
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    env:\n      A: 1\n",
			   "test.yaml", "test.yaml: device \"gpu0\": containerEdits.env: must be a list of strings");
	/* an unquoted digit name is an integer in YAML */
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: 0\n"
			   "  containerEdits: {env: [A=1]}\n",
			   "test.yaml", "test.yaml: devices[0].name: must be a string");
	expect_parse_error("cdiVersion: 0.5\nkind: nvidia.com/gpu\ndevices: []\n", "test.yaml",
			   "test.yaml: cdiVersion: must be a string");
}

/* A NUL byte cannot be part of a CDI string: the JSON reader refuses "\u0000", and a YAML "\0"
 * escape would otherwise be cut short in C ("/dev/x\0/../y" read as "/dev/x"). */
static void test_nul_bytes(void **state)
{
	(void)state;
	expect_parse_error("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    deviceNodes:\n    - path: /dev/nvidia0\n"
			   "      hostPath: '/dev/nvidia0\\0/../../etc/shadow'\n",
			   "test.yaml",
			   "test.yaml: devices[0].containerEdits.deviceNodes[0].hostPath: a string must not hold a NUL byte");
	expect_parse_error("cdiVersion: 0.7.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
			   "  containerEdits:\n    intelRdt: {closID: 'a\\0b'}\n",
			   "test.yaml", "test.yaml: devices[0].containerEdits.intelRdt.closID: a string must");
	expect_parse_error(HDR("0.5.0") "'devices':[{'name':'0','containerEdits':{'env':['A=\\u0000']}}]}",
			   "test.json", "test.json:");
	/* the escape is fine where it is not a NUL */
	expect_valid("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: gpu0\n"
		     "  containerEdits:\n    env: ['A=\\t']\n",
		     "test.yaml");
}

/* ------------------------------------------------------------ min versions */

static void test_min_version(void **state)
{
	(void)state;
	static const struct {
		const char *text, *want;
	} cases[] = {
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}]}", "0.3.0"},
		{HDR("1.1.0") "'devices':[{'name':'0','containerEdits':{'env':['A=1']}}]}", "0.5.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'deviceNodes':"
			      "[{'path':'/dev/x','hostPath':'/dev/x'}]}}]}", "0.5.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}],"
			      "'containerEdits':{'deviceNodes':[{'path':'/dev/x','hostPath':'/dev/y'}]}}", "0.5.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'mounts':"
			      "[{'hostPath':'/a','containerPath':'/a'}]}}]}", "0.3.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'mounts':"
			      "[{'hostPath':'/a','containerPath':'/a','type':'bind'}]}}]}", "0.4.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}],"
			      "'containerEdits':{'mounts':[{'hostPath':'/a','containerPath':'/a','type':'bind'}]}}", "0.4.0"},
		{HDR("1.1.0") "'devices':[{'name':'0','containerEdits':{'mounts':"
			      "[{'hostPath':'/a','containerPath':'/a','type':'bind'}]}}]}", "0.5.0"},
		{HDR("1.1.0") "'annotations':{'a':'b'},'devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}]}", "0.6.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','annotations':{'a':'b'},'containerEdits':{'env':['A=1']}}]}", "0.6.0"},
		{"{'cdiVersion':'1.1.0','kind':'nvidia.com/gpu.x','devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}]}", "0.6.0"},
		{"{'cdiVersion':'1.1.0','kind':'vendor.example.com/gpu','devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}]}", "0.3.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'additionalGids':[44]}}]}", "0.7.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'env':['A=1']}}],"
			      "'containerEdits':{'additionalGids':[44]}}", "0.7.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'intelRdt':{'closID':'c'}}}]}", "0.7.0"},
		{HDR("1.1.0") "'devices':[{'name':'gpu0','containerEdits':{'netDevices':"
			      "[{'hostInterfaceName':'eth0','name':'eth1'}]}}]}", "1.1.0"},
		{HDR("1.1.0") "'devices':[{'name':'0','annotations':{'a':'b'},'containerEdits':{'additionalGids':[1],"
			      "'netDevices':[],'mounts':[{'hostPath':'/a','containerPath':'/a','type':'bind'}]}}]}", "1.1.0"},
		/* nulls are absent fields */
		{HDR("1.1.0") "'annotations':null,'devices':[{'name':'gpu0','containerEdits':{'env':['A=1'],"
			      "'intelRdt':null,'netDevices':null,'additionalGids':null}}]}", "0.3.0"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		struct nvb_error err = {0};
		struct nvb_cdi_spec *spec = parse_text(cases[i].text, "min.json", &err);
		if (!spec)
			print_error("case %zu: %s\n", i, err.message);
		assert_non_null(spec);
		const char *got = nvb_cdi_min_version(spec);
		if (strcmp(got, cases[i].want))
			print_error("case %zu: got %s, want %s\n", i, got, cases[i].want);
		assert_string_equal(got, cases[i].want);
		/* a spec declaring exactly its minimum version is valid */
		free(spec->cdi_version);
		spec->cdi_version = strdup(got);
		assert_int_equal(nvb_cdi_validate(spec, NULL, NULL, &err), 0);
		nvb_cdi_spec_free(spec);
	}
}

/* -------------------------------------------------------------------- codec */

static const char rich_json[] =
	"{'cdiVersion':'1.1.0','kind':'vendor.example.com/gpu.x',"
	"'annotations':{'b.io/x':'yes','a':'0755','empty':''},"
	"'devices':[{'name':'0','annotations':{'k':'null'},'containerEdits':{"
	"'env':['A=1','B=with space','C=: colon','D=#hash','E=\\u00e9t\\u00e9','F=\\ttab','G=\\\\back']," 
	"'deviceNodes':[{'path':'/dev/nvidia0','hostPath':'/host/dev/nvidia0','type':'c','major':195,"
	"'minor':0,'fileMode':8630,'permissions':'rwm','uid':0,'gid':44},{'path':'/dev/nvidia1'}],"
	"'mounts':[{'hostPath':'/usr/lib/libcuda.so.1','containerPath':'/usr/lib/libcuda.so.1','type':'bind',"
	"'options':['ro','nosuid','nodev','bind']},{'hostPath':'/a','containerPath':'/b'}],"
	"'hooks':[{'hookName':'createContainer','path':'/usr/bin/nvbind','args':['nvbind','hook','x'],"
	"'env':['PATH=/bin'],'timeout':10},{'hookName':'poststop','path':'/bin/true'}],"
	"'additionalGids':[44,107],'intelRdt':{'closID':'c1','schemata':['L3:0=f'],'enableMonitoring':true},"
	"'netDevices':[{'hostInterfaceName':'eth0','name':'eth1'}]}},"
	"{'name':'mig0:1','containerEdits':{'deviceNodes':[{'path':'/dev/nvidia-caps/nvidia-cap12'}]}},"
	"{'name':'true','containerEdits':{'env':['X=1']}}],"
	"'containerEdits':{'env':['NVIDIA_VISIBLE_DEVICES=void'],"
	"'intelRdt':{'n':1.5,'big':-9007199254740993,'z':null,'list':[[],{}]}}}";

static const char rich_yaml[] =
	"cdiVersion: 0.5.0\n"
	"kind: nvidia.com/gpu\n"
	"devices:\n"
	"- name: '0'\n"
	"  containerEdits:\n"
	"    env: ['A=1', \"B=x: y\", 'C=\\n']\n"
	"    deviceNodes:\n"
	"    - path: /dev/nvidia0\n"
	"      hostPath: /dev/nvidia0\n"
	"      major: 0xc3\n"
	"      minor: 0\n"
	"      fileMode: 0666\n"
	"- name: all\n"
	"  containerEdits:\n"
	"    deviceNodes:\n"
	"    - {path: /dev/nvidia0}\n"
	"containerEdits:\n"
	"  env:\n"
	"  - NVIDIA_VISIBLE_DEVICES=void\n"
	"  mounts:\n"
	"  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14\n"
	"    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14\n"
	"    type: bind\n"
	"    options: [ro, nosuid, nodev, bind]\n"
	"  hooks:\n"
	"  - hookName: createContainer\n"
	"    path: /usr/bin/nvbind\n"
	"    args:\n"
	"    - nvbind\n"
	"    - hook\n"
	"    - create-symlinks\n"
	"    - --link\n"
	"    - libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so\n"
	"    env: [PATH=/usr/bin, LC_ALL=C]\n"
	"    timeout: 30\n";

/* parse -> format (JSON and YAML) -> parse -> format gives identical text, both ways. */
static void round_trip(const char *text, const char *origin)
{
	struct nvb_error err = {0};
	struct nvb_cdi_spec *s0 = parse_text(text, origin, &err);
	if (!s0)
		print_error("%s\n", err.message);
	assert_non_null(s0);
	char *j1 = nvb_cdi_spec_format(s0, NVB_CDI_JSON, &err);
	char *y1 = nvb_cdi_spec_format(s0, NVB_CDI_YAML, &err);
	assert_non_null(j1);
	assert_non_null(y1);
	struct nvb_cdi_spec *sj = nvb_cdi_spec_parse(j1, strlen(j1), "rt.json", &err);
	if (!sj)
		print_error("%s\n%s", err.message, j1);
	assert_non_null(sj);
	struct nvb_cdi_spec *sy = nvb_cdi_spec_parse(y1, strlen(y1), "rt.yaml", &err);
	if (!sy)
		print_error("%s\n%s", err.message, y1);
	assert_non_null(sy);
	char *j2 = nvb_cdi_spec_format(sj, NVB_CDI_JSON, &err);
	char *y2 = nvb_cdi_spec_format(sy, NVB_CDI_YAML, &err);
	char *jy = nvb_cdi_spec_format(sy, NVB_CDI_JSON, &err);
	char *yj = nvb_cdi_spec_format(sj, NVB_CDI_YAML, &err);
	assert_non_null(j2);
	assert_non_null(y2);
	assert_string_equal(j1, j2);
	assert_string_equal(y1, y2);
	/* and across formats */
	assert_string_equal(j1, jy);
	assert_string_equal(y1, yj);
	/* JSON output ends with a newline; both are valid again */
	assert_true(nvb_str_has_suffix(j1, "}\n"));
	assert_int_equal(nvb_cdi_validate(sj, NULL, NULL, &err), nvb_cdi_validate(s0, NULL, NULL, &err));
	assert_int_equal(nvb_cdi_validate(sy, NULL, NULL, &err), nvb_cdi_validate(s0, NULL, NULL, &err));
	free(j1);
	free(y1);
	free(j2);
	free(y2);
	free(jy);
	free(yj);
	nvb_cdi_spec_free(s0);
	nvb_cdi_spec_free(sj);
	nvb_cdi_spec_free(sy);
}

static void test_codec_round_trip(void **state)
{
	(void)state;
	round_trip(rich_json, "rich.json");
	round_trip(rich_yaml, "rich.yaml");
	round_trip(HDR("0.5.0") DEV0 "}", "small.json");

	/* values survive: YAML's 0x/0 octal integers, quoted strings that look like other types */
	struct nvb_error err = {0};
	struct nvb_cdi_spec *s = parse_text(rich_yaml, "rich.yaml", &err);
	assert_non_null(s);
	assert_int_equal(nvb_cdi_validate(s, NULL, NULL, &err), 0);
	assert_int_equal(s->n_devices, 2);
	assert_string_equal(s->devices[0].name, "0");
	assert_int_equal(s->devices[0].edits.nodes[0].major, 195);
	assert_int_equal(s->devices[0].edits.nodes[0].file_mode, 0666);
	assert_int_equal(s->devices[0].edits.nodes[0].uid, NVB_CDI_UNSET);
	assert_null(s->devices[0].edits.nodes[0].type);
	assert_string_equal(s->devices[0].edits.env[1], "B=x: y");
	assert_string_equal(s->devices[0].edits.env[2], "C=\n"); /* a double-quoted escape */
	assert_int_equal(s->edits.hooks[0].timeout, 30);
	assert_int_equal(s->edits.hooks[0].n_args, 5);
	char *y = nvb_cdi_spec_format(s, NVB_CDI_YAML, &err);
	assert_non_null(y);
	assert_non_null(strstr(y, "name: \"0\"")); /* quoted, so it stays a string */
	assert_non_null(strstr(y, "\"B=x: y\"")); /* quoted: ": " would start a mapping */
	free(y);
	nvb_cdi_spec_free(s);

	s = parse_text(rich_json, "rich.json", &err);
	assert_non_null(s);
	assert_int_equal(nvb_cdi_validate(s, NULL, NULL, &err), 0);
	assert_string_equal(s->devices[0].edits.env[4], "E=\xc3\xa9t\xc3\xa9");
	assert_int_equal(s->devices[0].edits.n_additional_gids, 2);
	assert_int_equal(s->devices[0].edits.additional_gids[1], 107);
	assert_non_null(s->devices[0].edits.intel_rdt);
	assert_int_equal(s->n_annotations, 3);
	y = nvb_cdi_spec_format(s, NVB_CDI_YAML, &err);
	assert_non_null(y);
	/* strings that YAML 1.1 readers would take for other types are quoted */
	assert_non_null(strstr(y, "\"yes\""));
	assert_non_null(strstr(y, "\"0755\""));
	assert_non_null(strstr(y, "\"null\""));
	assert_non_null(strstr(y, "name: \"true\""));
	free(y);
	nvb_cdi_spec_free(s);
}

static void test_write_atomic(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *path = nvb_asprintf("%s/spec.json", dir);
	assert_non_null(path);
	struct nvb_error err = {0};
	mode_t old = umask(077); /* the mode must not depend on the umask */
	assert_int_equal(nvb_write_file_atomic(path, "first\n", 6, 0644, &err), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(S_ISREG(st.st_mode));
	size_t len;
	char *got = read_text(path, &len);
	assert_non_null(got);
	assert_string_equal(got, "first\n");
	free(got);
	/* replacing keeps mode and leaves nothing else */
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(nvb_write_file_atomic(path, "second, longer\n", 15, 0644, &err), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	got = read_text(path, &len);
	assert_string_equal(got, "second, longer\n");
	free(got);
	char first[256];
	assert_int_equal(count_entries(dir, first, sizeof(first)), 1);
	assert_string_equal(first, "spec.json");
	/* empty content */
	assert_int_equal(nvb_write_file_atomic(path, "", 0, 0644, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);

	/* a missing directory fails cleanly: an error naming it, and no file */
	char *missing = nvb_asprintf("%s/nope/spec.json", dir);
	nvb_error_clear(&err);
	assert_int_equal(nvb_write_file_atomic(missing, "x", 1, 0644, &err), -1);
	assert_int_not_equal(err.code, NVB_OK);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_non_null(strstr(err.message, "nope"));
	assert_int_equal(stat(missing, &st), -1);
	assert_int_equal(count_entries(dir, NULL, 0), 1);
	free(missing);
	free(path);
	rm_rf(dir);
}

/* Two processes writing the same path: every read sees one complete version. */
static void test_write_atomic_concurrent(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *path = nvb_asprintf("%s/nvidia.yaml", dir);
	size_t la = 40000, lb = 56789;
	char *a = malloc(la), *b = malloc(lb);
	assert_non_null(a);
	assert_non_null(b);
	for (size_t i = 0; i < la; i++)
		a[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < lb; i++)
		b[i] = (char)('A' + i % 7);
	struct nvb_error err = {0};
	assert_int_equal(nvb_write_file_atomic(path, a, la, 0644, &err), 0);

	pid_t kids[2];
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			for (int i = 0; i < 200; i++)
				if (nvb_write_file_atomic(path, k ? b : a, k ? lb : la, 0644, NULL) < 0)
					_exit(1);
			_exit(0);
		}
	}
	int running = 2, status[2] = {-1, -1}, reads = 0;
	while (running) {
		for (int k = 0; k < 2; k++) {
			if (status[k] != -1)
				continue;
			int st;
			pid_t r = waitpid(kids[k], &st, WNOHANG);
			assert_true(r >= 0);
			if (r == kids[k]) {
				status[k] = st;
				running--;
			}
		}
		size_t len = 0;
		char *got = read_text(path, &len);
		assert_non_null(got); /* the file never disappears */
		bool ok = (len == la && !memcmp(got, a, la)) || (len == lb && !memcmp(got, b, lb));
		if (!ok)
			print_error("torn read: %zu bytes\n", len);
		assert_true(ok);
		free(got);
		reads++;
	}
	for (int k = 0; k < 2; k++) {
		assert_true(WIFEXITED(status[k]));
		assert_int_equal(WEXITSTATUS(status[k]), 0);
	}
	size_t len = 0;
	char *got = read_text(path, &len);
	assert_true((len == la && !memcmp(got, a, la)) || (len == lb && !memcmp(got, b, lb)));
	free(got);
	char first[256];
	assert_int_equal(count_entries(dir, first, sizeof(first)), 1); /* no temporary file left */
	assert_string_equal(first, "nvidia.yaml");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_true(reads > 0);
	free(a);
	free(b);
	free(path);
	rm_rf(dir);
}

/* ----------------------------------------------------------------- registry */

struct regdirs {
	char *root, *a, *b;
};

static void regdirs_make(struct regdirs *d)
{
	d->root = make_tmpdir();
	d->a = nvb_asprintf("%s/etc-cdi", d->root);
	d->b = nvb_asprintf("%s/var-run-cdi", d->root);
	assert_int_equal(mkdir(d->a, 0755), 0);
	assert_int_equal(mkdir(d->b, 0755), 0);
}

static void regdirs_free(struct regdirs *d)
{
	free(d->a);
	free(d->b);
	rm_rf(d->root);
}

static struct nvb_cdi_registry *reg_load(const struct regdirs *d)
{
	const char *dirs[] = {d->a, d->b};
	struct nvb_error err = {0};
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 2, &err);
	if (!reg)
		print_error("%s\n", err.message);
	assert_non_null(reg);
	return reg;
}

static char *errors_joined(const struct nvb_cdi_registry *reg)
{
	size_t cap = 1;
	for (size_t i = 0; i < reg->n_errors; i++)
		cap += strlen(reg->errors[i]) + 1;
	char *s = calloc(1, cap);
	assert_non_null(s);
	for (size_t i = 0; i < reg->n_errors; i++) {
		strcat(s, reg->errors[i]);
		strcat(s, "\n");
	}
	return s;
}

#define SPEC1(kind, name, env)                                                                   \
	"{'cdiVersion':'0.5.0','kind':'" kind "','devices':[{'name':'" name "',"                \
	"'containerEdits':{'env':['" env "']}}]}"

static void assert_origin(const struct nvb_cdi_registry *reg, const char *q, const char *dir,
			  const char *file)
{
	const struct nvb_cdi_entry *e = nvb_cdi_registry_find(reg, q);
	if (!e)
		print_error("%s not found\n", q);
	assert_non_null(e);
	assert_string_equal(e->qualified, q);
	char *want = nvb_asprintf("%s/%s", dir, file);
	assert_string_equal(e->spec->origin, want);
	free(want);
	/* the entry's device belongs to its spec */
	assert_true(e->device >= e->spec->devices && e->device < e->spec->devices + e->spec->n_devices);
}

static void test_registry_override(void **state)
{
	(void)state;
	struct regdirs d;
	regdirs_make(&d);
	write_text(d.a, "nvidia.json",
		   "{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu','devices':["
		   "{'name':'0','containerEdits':{'env':['FROM=a']}},"
		   "{'name':'1','containerEdits':{'env':['FROM=a']}}]}");
	write_text(d.b, "nvidia.yaml",
		   "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n"
		   "- name: '0'\n  containerEdits:\n    env: [FROM=b]\n");
	struct nvb_cdi_registry *reg = reg_load(&d);
	assert_int_equal(reg->n_errors, 0);
	assert_int_equal(reg->n_specs, 2);
	assert_int_equal(reg->n_entries, 2);
	assert_origin(reg, "nvidia.com/gpu=0", d.b, "nvidia.yaml");
	assert_origin(reg, "nvidia.com/gpu=1", d.a, "nvidia.json");
	assert_string_equal(nvb_cdi_registry_find(reg, "nvidia.com/gpu=0")->device->edits.env[0], "FROM=b");
	assert_string_equal(nvb_cdi_registry_find(reg, "nvidia.com/gpu=1")->device->edits.env[0], "FROM=a");
	nvb_cdi_registry_free(reg);

	/* the other order of directories: A wins */
	const char *dirs[] = {d.b, d.a};
	struct nvb_error err = {0};
	reg = nvb_cdi_registry_load(dirs, 2, &err);
	assert_non_null(reg);
	assert_origin(reg, "nvidia.com/gpu=0", d.a, "nvidia.json");
	nvb_cdi_registry_free(reg);
	regdirs_free(&d);
}

static void test_registry_conflict(void **state)
{
	(void)state;
	struct regdirs d;
	regdirs_make(&d);
	write_text(d.a, "b-second.json",
		   "{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu','devices':["
		   "{'name':'0','containerEdits':{'env':['FROM=b']}},"
		   "{'name':'2','containerEdits':{'env':['FROM=b']}}]}");
	write_text(d.a, "a-first.json",
		   "{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu','devices':["
		   "{'name':'0','containerEdits':{'env':['FROM=a']}},"
		   "{'name':'1','containerEdits':{'env':['FROM=a']}}]}");
	/* another kind with the same device name is no conflict */
	write_text(d.a, "c-other.json", SPEC1("example.com/net", "0", "X=1"));
	struct nvb_cdi_registry *reg = reg_load(&d);
	assert_int_equal(reg->n_specs, 3);
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu=0"));
	assert_origin(reg, "nvidia.com/gpu=1", d.a, "a-first.json");
	assert_origin(reg, "nvidia.com/gpu=2", d.a, "b-second.json");
	assert_origin(reg, "example.com/net=0", d.a, "c-other.json");
	assert_int_equal(reg->n_entries, 3);
	assert_int_equal(reg->n_errors, 1);
	char *want_a = nvb_asprintf("%s/a-first.json", d.a), *want_b = nvb_asprintf("%s/b-second.json", d.a);
	assert_non_null(strstr(reg->errors[0], want_a));
	assert_non_null(strstr(reg->errors[0], want_b));
	assert_non_null(strstr(reg->errors[0], "nvidia.com/gpu=0"));
	/* files are read in name order: the later file is the one reported */
	assert_true(nvb_str_has_prefix(reg->errors[0], want_b));
	free(want_a);
	free(want_b);
	for (size_t i = 0; i < reg->n_entries; i++)
		assert_string_not_equal(reg->entries[i].qualified, "nvidia.com/gpu=0");
	nvb_cdi_registry_free(reg);

	/* a conflict in B does not hide the rest of B */
	write_text(d.b, "x.json", SPEC1("nvidia.com/gpu", "5", "A=1"));
	write_text(d.b, "y.json", SPEC1("nvidia.com/gpu", "5", "A=2"));
	write_text(d.b, "z.json", SPEC1("nvidia.com/gpu", "6", "A=2"));
	reg = reg_load(&d);
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu=5"));
	assert_origin(reg, "nvidia.com/gpu=6", d.b, "z.json");
	assert_int_equal(reg->n_errors, 2);
	nvb_cdi_registry_free(reg);
	regdirs_free(&d);
}

static void test_registry_files(void **state)
{
	(void)state;
	struct regdirs d;
	regdirs_make(&d);
	/* .yml is ignored (podman 4.3.1 ignores it too), as are other names and hidden files */
	write_text(d.a, "ignored.yml",
		   "cdiVersion: 0.5.0\nkind: example.com/yml\ndevices:\n- name: a\n"
		   "  containerEdits: {env: [A=1]}\n");
	write_text(d.a, "ignored.txt", SPEC1("example.com/txt", "a", "A=1"));
	write_text(d.a, "ignored.json.bak", SPEC1("example.com/bak", "a", "A=1"));
	write_text(d.a, ".hidden.json", SPEC1("example.com/hidden", "a", "A=1"));
	/* valid files */
	write_text(d.a, "20-b.yaml",
		   "cdiVersion: 0.3.0\nkind: example.com/yaml\ndevices:\n- name: a\n"
		   "  containerEdits: {env: [A=1]}\n");
	write_text(d.a, "10-a.json", SPEC1("example.com/json", "a", "A=1"));
	write_text(d.a, "3-c.json", SPEC1("example.com/three", "a", "A=1"));
	/* invalid files: skipped, with an error naming the file */
	write_text(d.a, "15-invalid.json", SPEC1("example.com/bad", "a", "NOEQUALS"));
	write_text(d.a, "16-broken.json", "{'cdiVersion':");
	write_text(d.a, "17-unknown.yaml",
		   "cdiVersion: 0.5.0\nkind: example.com/unk\nextra: 1\ndevices: []\n");
	write_text(d.b, "00-toonew.json",
		   "{'cdiVersion':'0.5.0','kind':'example.com/new','devices':[{'name':'a',"
		   "'annotations':{'x':'y'},'containerEdits':{'env':['A=1']}}]}");

	struct nvb_cdi_registry *reg = reg_load(&d);
	char *errs = errors_joined(reg);
	/* in name order of each directory, A first */
	assert_int_equal(reg->n_specs, 3);
	char *p;
	p = nvb_asprintf("%s/10-a.json", d.a);
	assert_string_equal(reg->specs[0]->origin, p);
	free(p);
	p = nvb_asprintf("%s/20-b.yaml", d.a);
	assert_string_equal(reg->specs[1]->origin, p);
	free(p);
	p = nvb_asprintf("%s/3-c.json", d.a);
	assert_string_equal(reg->specs[2]->origin, p);
	free(p);
	assert_non_null(nvb_cdi_registry_find(reg, "example.com/json=a"));
	assert_non_null(nvb_cdi_registry_find(reg, "example.com/yaml=a"));
	assert_non_null(nvb_cdi_registry_find(reg, "example.com/three=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/yml=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/txt=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/bak=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/hidden=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/bad=a"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/new=a"));
	assert_int_equal(reg->n_entries, 3);
	/* entries are sorted */
	for (size_t i = 1; i < reg->n_entries; i++)
		assert_true(strcmp(reg->entries[i - 1].qualified, reg->entries[i].qualified) < 0);
	assert_int_equal(reg->n_errors, 4);
	p = nvb_asprintf("%s/15-invalid.json: device \"a\": containerEdits.env", d.a);
	assert_non_null(strstr(errs, p));
	free(p);
	p = nvb_asprintf("%s/16-broken.json:", d.a);
	assert_non_null(strstr(errs, p));
	free(p);
	p = nvb_asprintf("%s/17-unknown.yaml: extra: unknown field", d.a);
	assert_non_null(strstr(errs, p));
	free(p);
	p = nvb_asprintf("%s/00-toonew.json: cdiVersion", d.b);
	assert_non_null(strstr(errs, p));
	free(p);
	assert_null(strstr(errs, "ignored"));
	assert_null(strstr(errs, "hidden"));
	free(errs);
	nvb_cdi_registry_free(reg);
	regdirs_free(&d);
}

static void test_registry_find_and_missing(void **state)
{
	(void)state;
	struct regdirs d;
	regdirs_make(&d);
	write_text(d.b, "nvidia.json",
		   "{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu','devices':["
		   "{'name':'all','containerEdits':{'env':['A=1']}},"
		   "{'name':'1','containerEdits':{'env':['A=1']}},"
		   "{'name':'0','containerEdits':{'env':['A=1']}},"
		   "{'name':'GPU-abc','containerEdits':{'env':['A=1']}}]}");
	/* A exists but is empty; a third directory does not exist */
	char *missing = nvb_asprintf("%s/does-not-exist", d.root);
	const char *dirs[] = {d.a, missing, d.b};
	struct nvb_error err = {0};
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 3, &err);
	assert_non_null(reg);
	assert_int_equal(reg->n_errors, 0);
	assert_int_equal(reg->n_entries, 4);
	assert_string_equal(reg->entries[0].qualified, "nvidia.com/gpu=0");
	assert_string_equal(reg->entries[3].qualified, "nvidia.com/gpu=all");
	static const char *const names[] = {"0", "1", "GPU-abc", "all"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(names); i++) {
		char q[64];
		snprintf(q, sizeof(q), "nvidia.com/gpu=%s", names[i]);
		const struct nvb_cdi_entry *e = nvb_cdi_registry_find(reg, q);
		assert_non_null(e);
		assert_string_equal(e->device->name, names[i]);
	}
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu=2"));
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu"));
	assert_null(nvb_cdi_registry_find(reg, "amd.com/gpu=0"));
	assert_null(nvb_cdi_registry_find(reg, ""));
	nvb_cdi_registry_free(reg);

	/* nothing at all */
	char *m2 = nvb_asprintf("%s/also-missing", d.root);
	const char *none[] = {missing, m2};
	reg = nvb_cdi_registry_load(none, 2, &err);
	assert_non_null(reg);
	assert_int_equal(reg->n_entries, 0);
	assert_int_equal(reg->n_specs, 0);
	assert_int_equal(reg->n_errors, 0);
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu=0"));
	nvb_cdi_registry_free(reg);
	reg = nvb_cdi_registry_load(NULL, 0, &err);
	assert_non_null(reg);
	assert_null(nvb_cdi_registry_find(reg, "nvidia.com/gpu=0"));
	nvb_cdi_registry_free(reg);
	nvb_cdi_registry_free(NULL);
	free(m2);
	free(missing);
	regdirs_free(&d);
}

/* ---------------------------------------------------------- qualified names */

static void test_parse_qualified(void **state)
{
	(void)state;
	static const struct {
		const char *q, *kind, *name;
	} good[] = {
		{"nvidia.com/gpu=0", "nvidia.com/gpu", "0"},
		{"nvidia.com/gpu=GPU-abc", "nvidia.com/gpu", "GPU-abc"},
		{"vendor.io/class=mig0:1", "vendor.io/class", "mig0:1"},
		{"nvidia.com/gpu=all", "nvidia.com/gpu", "all"},
		{"nvidia.com/gpu.x=0", "nvidia.com/gpu.x", "0"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(good); i++) {
		char buf[128];
		const char *kind = NULL, *name = NULL;
		assert_int_equal(nvb_cdi_parse_qualified(good[i].q, buf, sizeof(buf), &kind, &name), 0);
		assert_string_equal(kind, good[i].kind);
		assert_string_equal(name, good[i].name);
	}
	static const char *const bad[] = {
		"nvidia.com/gpu", "gpu=0",  "a/b=0",	   "nvidia.com/gpu=", "=x", "",
		"nvidia.com/=0",  "/gpu=0", "nvidia.com/gpu=-0", "nvidia.com/gpu=a/b",
		"nvidia.com/gpu=0:", "nvidia.com/g=0", "=", "nvidia.com=gpu/0",
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(bad); i++) {
		char buf[128];
		const char *kind = NULL, *name = NULL;
		if (nvb_cdi_parse_qualified(bad[i], buf, sizeof(buf), &kind, &name) != -1)
			print_error("accepted \"%s\"\n", bad[i]);
		assert_int_equal(nvb_cdi_parse_qualified(bad[i], buf, sizeof(buf), &kind, &name), -1);
	}
	/* too long for the buffer */
	char small[8];
	const char *kind, *name;
	assert_int_equal(nvb_cdi_parse_qualified("nvidia.com/gpu=0", small, sizeof(small), &kind, &name), -1);
}

/* ---------------------------------------------------------------- generator */

#define GPU0_UUID "GPU-11111111-2222-3333-4444-555555555555"
#define GPU1_UUID "GPU-66666666-7777-8888-9999-aaaaaaaaaaaa"
#define MIG_UUID "MIG-bbbbbbbb-cccc-dddd-eeee-ffffffffffff"
#define LIB64 "/usr/lib/x86_64-linux-gnu"
#define LIB32 "/usr/lib/i386-linux-gnu"

static void set_node(struct nvb_device_node *n, const char *path, uint32_t major, uint32_t minor)
{
	n->path = strdup(path);
	assert_non_null(n->path);
	n->major = major;
	n->minor = minor;
	n->mode = 0666;
}

static void add_file(struct nvb_inventory *inv, const char *path, const char *link,
		     enum nvb_file_kind kind, const char *soname, unsigned caps, int elf_class)
{
	struct nvb_driver_file *f = &inv->files[inv->n_files++];
	f->path = strdup(path);
	f->link_path = strdup(link ? link : path);
	f->kind = kind;
	f->soname = soname ? strdup(soname) : NULL;
	f->caps = caps;
	f->elf_class = elf_class;
	assert_non_null(f->path);
	assert_non_null(f->link_path);
}

static struct nvb_inventory *make_inventory(void)
{
	struct nvb_inventory *inv = calloc(1, sizeof(*inv));
	assert_non_null(inv);
	inv->driver.vendor = NVB_VENDOR_NVIDIA;
	inv->driver.version = strdup("550.54.14");
	inv->driver.kernel_module = strdup("open");

	inv->gpus = calloc(2, sizeof(*inv->gpus));
	assert_non_null(inv->gpus);
	inv->n_gpus = 2;
	struct nvb_gpu *g = &inv->gpus[0];
	g->index = 0;
	g->minor = 1;
	g->name = strdup("NVIDIA A100-SXM4-40GB");
	g->uuid = strdup(GPU0_UUID);
	g->pci_bus_id = strdup("0000:01:00.0");
	g->mig_mode = 1;
	g->nodes = calloc(1, sizeof(*g->nodes));
	g->n_nodes = 1;
	set_node(&g->nodes[0], "/dev/nvidia1", 195, 1);
	g->migs = calloc(1, sizeof(*g->migs));
	g->n_migs = 1;
	g->migs[0].gi = 1;
	g->migs[0].ci = 0;
	g->migs[0].uuid = strdup(MIG_UUID);
	g->migs[0].nodes = calloc(2, sizeof(struct nvb_device_node));
	g->migs[0].n_nodes = 2;
	set_node(&g->migs[0].nodes[0], "/dev/nvidia-caps/nvidia-cap12", 234, 12);
	set_node(&g->migs[0].nodes[1], "/dev/nvidia-caps/nvidia-cap13", 234, 13);

	g = &inv->gpus[1];
	g->index = 1;
	g->minor = 0;
	g->name = strdup("NVIDIA A100-SXM4-40GB");
	g->uuid = strdup(GPU1_UUID);
	g->pci_bus_id = strdup("0000:02:00.0");
	g->mig_mode = 0;
	g->nodes = calloc(1, sizeof(*g->nodes));
	g->n_nodes = 1;
	set_node(&g->nodes[0], "/dev/nvidia0", 195, 0);

	inv->control_nodes = calloc(3, sizeof(*inv->control_nodes));
	inv->n_control_nodes = 3;
	set_node(&inv->control_nodes[0], "/dev/nvidiactl", 195, 255);
	set_node(&inv->control_nodes[1], "/dev/nvidia-uvm", 510, 0);
	set_node(&inv->control_nodes[2], "/dev/nvidia-caps/nvidia-cap1", 234, 1);

	inv->files = calloc(8, sizeof(*inv->files));
	assert_non_null(inv->files);
	add_file(inv, LIB64 "/libcuda.so.550.54.14", LIB64 "/libcuda.so.1", NVB_FILE_LIBRARY,
		 "libcuda.so.1", NVB_CAP_COMPUTE, 64);
	add_file(inv, LIB32 "/libcuda.so.550.54.14", LIB32 "/libcuda.so.1", NVB_FILE_LIBRARY,
		 "libcuda.so.1", NVB_CAP_COMPUTE | NVB_CAP_COMPAT32, 32);
	add_file(inv, LIB64 "/libGLX_nvidia.so.550.54.14", NULL, NVB_FILE_LIBRARY,
		 "libGLX_nvidia.so.0", NVB_CAP_GRAPHICS | NVB_CAP_DISPLAY, 64);
	add_file(inv, "/usr/bin/nvidia-smi", NULL, NVB_FILE_BINARY, NULL, NVB_CAP_UTILITY, 64);
	add_file(inv, "/usr/share/vulkan/icd.d/nvidia_icd.json", NULL, NVB_FILE_CONFIG, NULL,
		 NVB_CAP_GRAPHICS, 0);
	add_file(inv, "/lib/firmware/nvidia/550.54.14/gsp_ga10x.bin", NULL, NVB_FILE_FIRMWARE, NULL,
		 NVB_CAP_UTILITY | NVB_CAP_COMPUTE, 0);
	return inv;
}

static struct nvb_cdi_spec *generate(const struct nvb_inventory *inv, unsigned caps,
				     unsigned naming, const char *host_root)
{
	struct nvb_cdi_gen_opts o = {
		.caps = caps, .naming = naming, .hook_path = "/usr/bin/nvbind", .host_root = host_root};
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = nvb_cdi_generate(inv, &o, &err);
	if (!spec)
		print_error("%s\n", err.message);
	assert_non_null(spec);
	/* always valid, and readable by podman 4.3.1 (CDI 0.5.0 at most) */
	struct msgs ms = {.n = 0};
	ms.buf[0] = '\0';
	if (nvb_cdi_validate(spec, collect, &ms, &err))
		print_error("%s", ms.buf);
	assert_int_equal(nvb_cdi_validate(spec, NULL, NULL, &err), 0);
	assert_true(nvb_cdi_version_cmp(spec->cdi_version, "0.5.0") <= 0);
	assert_string_equal(spec->cdi_version, nvb_cdi_min_version(spec));
	assert_string_equal(spec->kind, "nvidia.com/gpu");
	/* and it reads back as written */
	char *text = nvb_cdi_spec_format(spec, NVB_CDI_YAML, &err);
	assert_non_null(text);
	struct nvb_cdi_spec *back = nvb_cdi_spec_parse(text, strlen(text), "gen.yaml", &err);
	assert_non_null(back);
	assert_int_equal(nvb_cdi_validate(back, NULL, NULL, &err), 0);
	nvb_cdi_spec_free(back);
	free(text);
	return spec;
}

static const struct nvb_cdi_device *dev(const struct nvb_cdi_spec *s, const char *name)
{
	for (size_t i = 0; i < s->n_devices; i++)
		if (!strcmp(s->devices[i].name, name))
			return &s->devices[i];
	return NULL;
}

static void assert_devices(const struct nvb_cdi_spec *s, const char *const *names, size_t n)
{
	if (s->n_devices != n) {
		for (size_t i = 0; i < s->n_devices; i++)
			print_error("device %s\n", s->devices[i].name);
	}
	assert_int_equal(s->n_devices, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->devices[i].name, names[i]);
}

static void assert_nodes(const struct nvb_cdi_edits *e, const char *const *paths, size_t n)
{
	assert_int_equal(e->n_nodes, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(e->nodes[i].path, paths[i]);
}

static bool has_mount(const struct nvb_cdi_spec *s, const char *container_path)
{
	for (size_t i = 0; i < s->edits.n_mounts; i++)
		if (!strcmp(s->edits.mounts[i].container_path, container_path))
			return true;
	return false;
}

static bool has_node(const struct nvb_cdi_edits *e, const char *path)
{
	for (size_t i = 0; i < e->n_nodes; i++)
		if (!strcmp(e->nodes[i].path, path))
			return true;
	return false;
}

static const struct nvb_cdi_hook *hook(const struct nvb_cdi_spec *s, const char *what)
{
	for (size_t i = 0; i < s->edits.n_hooks; i++)
		if (s->edits.hooks[i].n_args >= 2 && !strcmp(s->edits.hooks[i].args[1], what))
			return &s->edits.hooks[i];
	return NULL;
}

/* Does the hook have the argument pair flag value? */
static size_t count_pair(const struct nvb_cdi_hook *h, const char *flag, const char *value)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < h->n_args; i++)
		if (!strcmp(h->args[i], flag) && !strcmp(h->args[i + 1], value))
			n++;
	return n;
}

static void test_generate_default(void **state)
{
	(void)state;
	struct nvb_inventory *inv = make_inventory();
	struct nvb_cdi_spec *s = generate(inv, 0, 0, NULL);
	static const char *const names[] = {"0", "1", GPU0_UUID, GPU1_UUID, "0:0", MIG_UUID, "all"};
	assert_devices(s, names, NVB_ARRAY_SIZE(names));
	assert_string_equal(s->cdi_version, "0.5.0");

	/* device 0 is the GPU with index 0, whose node is /dev/nvidia1 */
	static const char *const n0[] = {"/dev/nvidia1"};
	static const char *const n1[] = {"/dev/nvidia0"};
	static const char *const nmig[] = {"/dev/nvidia1", "/dev/nvidia-caps/nvidia-cap12",
					   "/dev/nvidia-caps/nvidia-cap13"};
	static const char *const nall[] = {"/dev/nvidia1", "/dev/nvidia0"};
	const struct nvb_cdi_device *d = dev(s, "0");
	assert_nodes(&d->edits, n0, 1);
	assert_int_equal(d->edits.n_mounts + d->edits.n_hooks + d->edits.n_env, 0);
	assert_nodes(&dev(s, "1")->edits, n1, 1);
	assert_nodes(&dev(s, GPU0_UUID)->edits, n0, 1);
	assert_nodes(&dev(s, GPU1_UUID)->edits, n1, 1);
	assert_nodes(&dev(s, "0:0")->edits, nmig, 3);
	assert_nodes(&dev(s, MIG_UUID)->edits, nmig, 3);
	assert_nodes(&dev(s, "all")->edits, nall, 2);
	/* no major/minor and no hostPath: the engine fills them from the host */
	for (size_t i = 0; i < s->n_devices; i++)
		for (size_t k = 0; k < s->devices[i].edits.n_nodes; k++) {
			assert_null(s->devices[i].edits.nodes[k].host_path);
			assert_int_equal(s->devices[i].edits.nodes[k].major, NVB_CDI_UNSET);
		}

	/* common edits: control nodes without the MIG management caps */
	static const char *const ctl[] = {"/dev/nvidiactl", "/dev/nvidia-uvm"};
	assert_nodes(&s->edits, ctl, 2);
	assert_false(has_node(&s->edits, "/dev/nvidia-caps/nvidia-cap1"));
	assert_false(has_node(&s->edits, "/dev/nvidia-caps/nvidia-cap12"));
	assert_int_equal(s->edits.n_env, 1);
	assert_string_equal(s->edits.env[0], "NVIDIA_VISIBLE_DEVICES=void");

	/* every file: default caps are everything found */
	assert_true(has_mount(s, LIB64 "/libcuda.so.550.54.14"));
	assert_true(has_mount(s, LIB32 "/libcuda.so.550.54.14"));
	assert_true(has_mount(s, LIB64 "/libGLX_nvidia.so.550.54.14"));
	assert_true(has_mount(s, "/usr/bin/nvidia-smi"));
	assert_true(has_mount(s, "/usr/share/vulkan/icd.d/nvidia_icd.json"));
	assert_true(has_mount(s, "/lib/firmware/nvidia/550.54.14/gsp_ga10x.bin"));
	assert_int_equal(s->edits.n_mounts, 6);
	for (size_t i = 0; i < s->edits.n_mounts; i++) {
		const struct nvb_cdi_mount *m = &s->edits.mounts[i];
		assert_string_equal(m->type, "bind");
		assert_string_equal(m->host_path, m->container_path);
		assert_int_equal(m->n_options, 4);
		assert_string_equal(m->options[0], "ro");
	}

	/* one hook: the static nvbind-hook, with an explicit env */
	assert_int_equal(s->edits.n_hooks, 1);
	const struct nvb_cdi_hook *h = &s->edits.hooks[0];
	assert_string_equal(h->hook_name, "createRuntime");
	assert_string_equal(h->path, "/usr/bin/nvbind");
	assert_true(h->n_env > 0);
	for (size_t k = 0; k < h->n_env; k++)
		assert_false(nvb_str_has_prefix(h->env[k], "LD_"));
	assert_string_equal(h->args[0], "nvbind-hook");
	assert_string_equal(h->args[1], "libraries");
	/* at createRuntime, and the hook is told so: it joins the container's namespaces */
	assert_int_equal(count_pair(h, "--stage", "createRuntime"), 1);
	assert_int_equal(count_pair(h, "--lib", LIB64 "/libcuda.so.550.54.14::libcuda.so.1::x86-64"), 1);
	assert_int_equal(count_pair(h, "--lib", LIB32 "/libcuda.so.550.54.14::libcuda.so.1::i386"), 1);
	assert_int_equal(count_pair(h, "--lib", LIB64 "/libGLX_nvidia.so.550.54.14::libGLX_nvidia.so.0::x86-64"), 1);
	assert_int_equal(count_pair(h, "--link", "libcuda.so.1::" LIB64 "/libcuda.so"), 1);
	assert_int_equal(count_pair(h, "--link", "libcuda.so.1::" LIB32 "/libcuda.so"), 1);
	assert_int_equal(count_pair(h, "--link", "libGLX_nvidia.so.0::" LIB64 "/libGLX_indirect.so.0"), 1);
	assert_int_equal(h->n_args, 2 + 2 * 7); /* --stage, 3 --lib, 3 --link */

	nvb_cdi_spec_free(s);
	nvb_inventory_free(inv);
}

static void test_generate_naming(void **state)
{
	(void)state;
	struct nvb_inventory *inv = make_inventory();
	struct nvb_cdi_spec *s = generate(inv, 0, NVB_CDI_NAME_TYPE_INDEX, NULL);
	static const char *const ti[] = {"gpu0", "gpu1", "mig0:0", "all"};
	assert_devices(s, ti, NVB_ARRAY_SIZE(ti));
	static const char *const n0[] = {"/dev/nvidia1"};
	assert_nodes(&dev(s, "gpu0")->edits, n0, 1);
	assert_int_equal(dev(s, "mig0:0")->edits.n_nodes, 3);
	/* no digit-first name and no hostPath: mount types need 0.4.0 only */
	assert_string_equal(s->cdi_version, "0.4.0");
	nvb_cdi_spec_free(s);

	s = generate(inv, 0, NVB_CDI_NAME_INDEX, NULL);
	static const char *const ix[] = {"0", "1", "0:0", "all"};
	assert_devices(s, ix, NVB_ARRAY_SIZE(ix));
	assert_string_equal(s->cdi_version, "0.5.0");
	nvb_cdi_spec_free(s);

	s = generate(inv, 0, NVB_CDI_NAME_UUID, NULL);
	static const char *const uu[] = {GPU0_UUID, GPU1_UUID, MIG_UUID, "all"};
	assert_devices(s, uu, NVB_ARRAY_SIZE(uu));
	nvb_cdi_spec_free(s);

	s = generate(inv, 0, NVB_CDI_NAME_INDEX | NVB_CDI_NAME_UUID | NVB_CDI_NAME_TYPE_INDEX, NULL);
	static const char *const every[] = {"0",      "1",	  GPU0_UUID, GPU1_UUID, "gpu0", "gpu1",
					    "0:0",    MIG_UUID, "mig0:0",  "all"};
	assert_devices(s, every, NVB_ARRAY_SIZE(every));
	nvb_cdi_spec_free(s);

	/* without a MIG uuid the MIG device has no uuid name */
	free(inv->gpus[0].migs[0].uuid);
	inv->gpus[0].migs[0].uuid = NULL;
	s = generate(inv, 0, 0, NULL);
	static const char *const nouuid[] = {"0", "1", GPU0_UUID, GPU1_UUID, "0:0", "all"};
	assert_devices(s, nouuid, NVB_ARRAY_SIZE(nouuid));
	nvb_cdi_spec_free(s);

	/* naming words */
	unsigned naming = 0;
	struct nvb_error err = {0};
	assert_int_equal(nvb_cdi_naming_parse("index, uuid", &naming, &err), 0);
	assert_int_equal(naming, NVB_CDI_NAME_INDEX | NVB_CDI_NAME_UUID);
	assert_int_equal(nvb_cdi_naming_parse("type-index", &naming, &err), 0);
	assert_int_equal(naming, NVB_CDI_NAME_TYPE_INDEX);
	assert_int_equal(nvb_cdi_naming_parse("index,bogus", &naming, &err), -1);
	assert_non_null(strstr(err.message, "bogus"));
	assert_int_equal(nvb_cdi_naming_parse("", &naming, &err), -1);
	nvb_inventory_free(inv);
}

static void test_generate_caps(void **state)
{
	(void)state;
	struct nvb_inventory *inv = make_inventory();
	struct nvb_cdi_spec *s = generate(inv, NVB_CAP_COMPUTE, 0, NULL);
	assert_true(has_mount(s, LIB64 "/libcuda.so.550.54.14"));
	assert_false(has_mount(s, LIB32 "/libcuda.so.550.54.14"));
	assert_false(has_mount(s, LIB64 "/libGLX_nvidia.so.550.54.14"));
	assert_false(has_mount(s, "/usr/bin/nvidia-smi"));
	assert_false(has_mount(s, "/usr/share/vulkan/icd.d/nvidia_icd.json"));
	assert_true(has_mount(s, "/lib/firmware/nvidia/550.54.14/gsp_ga10x.bin"));
	assert_int_equal(s->edits.n_mounts, 2);
	const struct nvb_cdi_hook *libs = hook(s, "libraries");
	assert_non_null(libs);
	assert_int_equal(libs->n_args, 2 + 3 * 2); /* --stage, one --lib, one --link */
	assert_int_equal(count_pair(libs, "--lib", LIB64 "/libcuda.so.550.54.14::libcuda.so.1::x86-64"), 1);
	assert_int_equal(count_pair(libs, "--link", "libcuda.so.1::" LIB64 "/libcuda.so"), 1);
	nvb_cdi_spec_free(s);

	s = generate(inv, NVB_CAP_COMPUTE | NVB_CAP_COMPAT32, 0, NULL);
	assert_true(has_mount(s, LIB64 "/libcuda.so.550.54.14"));
	assert_true(has_mount(s, LIB32 "/libcuda.so.550.54.14"));
	assert_false(has_mount(s, LIB64 "/libGLX_nvidia.so.550.54.14"));
	assert_false(has_mount(s, "/usr/bin/nvidia-smi"));
	libs = hook(s, "libraries");
	assert_int_equal(count_pair(libs, "--lib", LIB32 "/libcuda.so.550.54.14::libcuda.so.1::i386"), 1);
	assert_int_equal(count_pair(libs, "--lib", LIB64 "/libcuda.so.550.54.14::libcuda.so.1::x86-64"), 1);
	nvb_cdi_spec_free(s);

	/* compat32 alone brings no library: it only qualifies the others */
	s = generate(inv, NVB_CAP_COMPAT32 | NVB_CAP_UTILITY, 0, NULL);
	assert_false(has_mount(s, LIB32 "/libcuda.so.550.54.14"));
	assert_true(has_mount(s, "/usr/bin/nvidia-smi"));
	assert_null(hook(s, "libraries")); /* no library, no hooks */
	assert_int_equal(s->edits.n_hooks, 0);
	nvb_cdi_spec_free(s);

	/* display implies graphics */
	s = generate(inv, NVB_CAP_DISPLAY, 0, NULL);
	assert_true(has_mount(s, LIB64 "/libGLX_nvidia.so.550.54.14"));
	assert_true(has_mount(s, "/usr/share/vulkan/icd.d/nvidia_icd.json"));
	assert_false(has_mount(s, LIB64 "/libcuda.so.550.54.14"));
	libs = hook(s, "libraries");
	assert_int_equal(count_pair(libs, "--link", "libGLX_nvidia.so.0::" LIB64 "/libGLX_indirect.so.0"), 1);
	nvb_cdi_spec_free(s);
	nvb_inventory_free(inv);
}

static void test_generate_host_root(void **state)
{
	(void)state;
	struct nvb_inventory *inv = make_inventory();
	struct nvb_cdi_spec *s = generate(inv, 0, 0, "/x");
	assert_string_equal(s->cdi_version, "0.5.0");
	size_t n_host = 0;
	const struct nvb_cdi_edits *all[16];
	size_t n_all = 0;
	all[n_all++] = &s->edits;
	for (size_t i = 0; i < s->n_devices; i++)
		all[n_all++] = &s->devices[i].edits;
	for (size_t k = 0; k < n_all; k++) {
		const struct nvb_cdi_edits *e = all[k];
		for (size_t i = 0; i < e->n_nodes; i++) {
			assert_non_null(e->nodes[i].host_path);
			assert_true(nvb_str_has_prefix(e->nodes[i].host_path, "/x/"));
			assert_string_equal(e->nodes[i].host_path + 2, e->nodes[i].path);
			assert_false(nvb_str_has_prefix(e->nodes[i].path, "/x/"));
			n_host++;
		}
		for (size_t i = 0; i < e->n_mounts; i++) {
			assert_true(nvb_str_has_prefix(e->mounts[i].host_path, "/x/"));
			assert_false(nvb_str_has_prefix(e->mounts[i].container_path, "/x/"));
			n_host++;
		}
		for (size_t i = 0; i < e->n_hooks; i++) {
			assert_string_equal(e->hooks[i].path, "/usr/bin/nvbind");
			for (size_t a = 0; a < e->hooks[i].n_args; a++)
				assert_null(strstr(e->hooks[i].args[a], "/x/"));
		}
	}
	assert_true(n_host > 10);
	const struct nvb_cdi_mount *m = NULL;
	for (size_t i = 0; i < s->edits.n_mounts; i++)
		if (!strcmp(s->edits.mounts[i].container_path, LIB64 "/libcuda.so.550.54.14"))
			m = &s->edits.mounts[i];
	assert_non_null(m);
	assert_string_equal(m->host_path, "/x" LIB64 "/libcuda.so.550.54.14");
	nvb_cdi_spec_free(s);

	/* "/" is no prefix at all */
	s = generate(inv, 0, 0, "/");
	for (size_t i = 0; i < s->edits.n_nodes; i++)
		assert_null(s->edits.nodes[i].host_path);
	for (size_t i = 0; i < s->edits.n_mounts; i++)
		assert_string_equal(s->edits.mounts[i].host_path, s->edits.mounts[i].container_path);
	nvb_cdi_spec_free(s);
	nvb_inventory_free(inv);
}

static void test_generate_errors(void **state)
{
	(void)state;
	struct nvb_inventory *inv = make_inventory();
	struct nvb_error err = {0};
	struct nvb_cdi_gen_opts o = {.hook_path = "nvbind"};
	assert_null(nvb_cdi_generate(inv, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	o.hook_path = NULL;
	assert_null(nvb_cdi_generate(inv, &o, &err));
	assert_int_equal(err.code, NVB_ERR_USAGE);
	nvb_inventory_free(inv);

	struct nvb_inventory *empty = calloc(1, sizeof(*empty));
	assert_non_null(empty);
	o.hook_path = "/usr/bin/nvbind";
	assert_null(nvb_cdi_generate(empty, &o, &err));
	assert_int_equal(err.code, NVB_ERR_NOT_FOUND);
	nvb_inventory_free(empty);

	/* a custom kind is used as given */
	inv = make_inventory();
	o.kind = "example.com/accel";
	struct nvb_cdi_spec *s = nvb_cdi_generate(inv, &o, &err);
	assert_non_null(s);
	assert_string_equal(s->kind, "example.com/accel");
	assert_int_equal(nvb_cdi_validate(s, NULL, NULL, &err), 0);
	nvb_cdi_spec_free(s);
	nvb_inventory_free(inv);
}

/* ----------------------------------------------------- hostile and big inputs */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Log lines (nvb_warn) go to a file while f runs; returns what was logged (malloc'ed). */
static char *logged(void (*f)(void *), void *arg)
{
	char *dir = make_tmpdir();
	char *path = nvb_asprintf("%s/log", dir);
	struct nvb_error err;
	enum nvb_log_level saved = nvb_log_current;
	assert_int_equal(nvb_log_setup(NVB_LOG_WARN, NVB_LOG_TEXT, path, &err), 0);
	f(arg);
	assert_int_equal(nvb_log_setup(saved, NVB_LOG_TEXT, "/dev/stderr", &err), 0);
	char *text = read_text(path, NULL);
	assert_non_null(text);
	free(path);
	rm_rf(dir);
	return text;
}

static void test_spec_fifo(void **state)
{
	(void)state;
	char *dir = make_tmpdir();
	char *path = nvb_asprintf("%s/nvidia.json", dir);
	assert_int_equal(mkfifo(path, 0644), 0);
	struct nvb_error err;
	alarm(10); /* the old open() waited for a writer forever */
	assert_null(nvb_cdi_spec_load(path, &err));
	alarm(0);
	assert_non_null(strstr(err.message, path));
	assert_non_null(strstr(err.message, "a FIFO, not a regular file"));
	/* and in a spec directory: reported, the other specs still load */
	write_text(dir, "other.json", SPEC1("example.com/xx", "a", "A=1"));
	const char *dirs[] = {dir};
	alarm(10);
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 1, &err);
	alarm(0);
	assert_non_null(reg);
	assert_int_equal(reg->n_errors, 1);
	assert_non_null(strstr(reg->errors[0], "a FIFO"));
	assert_non_null(nvb_cdi_registry_find(reg, "example.com/xx=a"));
	nvb_cdi_registry_free(reg);
	free(path);
	rm_rf(dir);
}

static void load_registry_of(void *arg)
{
	const char *dirs[] = {arg};
	struct nvb_error err;
	struct nvb_cdi_registry *reg = nvb_cdi_registry_load(dirs, 1, &err);
	assert_non_null(reg);
	assert_non_null(nvb_cdi_registry_find(reg, "example.com/xx=a"));
	nvb_cdi_registry_free(reg);
}

static void test_world_writable_warnings(void **state)
{
	(void)state;
	char *root = make_tmpdir();
	char *dir = nvb_asprintf("%s/cdi", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_text(dir, "x.json", SPEC1("example.com/xx", "a", "A=1"));
	char *log = logged(load_registry_of, dir);
	assert_null(strstr(log, "world-writable")); /* 0755 and 0644 (umask 022 at most) */
	free(log);
	char *file = nvb_asprintf("%s/x.json", dir);
	assert_int_equal(chmod(file, 0666), 0);
	assert_int_equal(chmod(dir, 01777), 0); /* sticky too: still anyone may add a spec */
	log = logged(load_registry_of, dir);
	char *want_file = nvb_asprintf("CDI spec %s is world-writable", file);
	char *want_dir = nvb_asprintf("CDI spec directory %s is world-writable", dir);
	assert_non_null(strstr(log, want_file));
	assert_non_null(strstr(log, want_dir));
	free(log);
	free(want_file);
	free(want_dir);
	free(file);
	free(dir);
	rm_rf(root);
}

static void validate_hookless(void *arg)
{
	struct nvb_error err;
	assert_int_equal(nvb_cdi_validate(arg, NULL, NULL, &err), 0);
}

/* Hooks without env (older NVIDIA toolkits): valid, with a warning naming the hook. */
static void test_hook_without_env_warns(void **state)
{
	(void)state;
	struct nvb_error err;
	struct nvb_cdi_spec *spec = parse_text(
		"{'cdiVersion':'0.5.0','kind':'nvidia.com/gpu','devices':[{'name':'0',"
		"'containerEdits':{'env':['A=1'],'hooks':[{'hookName':'createContainer','path':'/usr/bin/dev-hook'}]}}],"
		"'containerEdits':{'hooks':[{'hookName':'createContainer','path':'/usr/bin/nvidia-ctk',"
		"'args':['nvidia-ctk','hook']},{'hookName':'createContainer','path':'/usr/bin/ok','env':['PATH=/bin']}]}}",
		"/etc/cdi/old.json", &err);
	assert_non_null(spec);
	char *log = logged(validate_hookless, spec);
	assert_non_null(strstr(log, "/etc/cdi/old.json: containerEdits.hooks[0]: hook /usr/bin/nvidia-ctk has no env"));
	assert_non_null(strstr(log, "/etc/cdi/old.json: device \"0\": containerEdits.hooks[0]: hook /usr/bin/dev-hook has no env"));
	assert_null(strstr(log, "/usr/bin/ok"));
	free(log);
	nvb_cdi_spec_free(spec);
}

/* A spec of n devices named d<i> (and, every 1000th, a second device of the same name). */
static char *many_devices_spec(const char *kind, size_t n, size_t *n_dups)
{
	size_t cap = 128 + n * 96, len = 0;
	char *t = malloc(cap);
	assert_non_null(t);
	len += (size_t)snprintf(t + len, cap - len, "{\"cdiVersion\":\"0.5.0\",\"kind\":\"%s\",\"devices\":[", kind);
	*n_dups = 0;
	for (size_t i = 0; i < n; i++) {
		size_t name = (i % 1000 == 999) ? i - 1 : i;
		*n_dups += name != i;
		len += (size_t)snprintf(t + len, cap - len,
					"%s{\"name\":\"d%zu\",\"containerEdits\":{\"env\":[\"N=%zu\"]}}",
					i ? "," : "", name, i);
	}
	snprintf(t + len, cap - len, "]}");
	return t;
}

/* 50k devices: pairwise duplicate checks (validator, registry) take many seconds here. */
static void test_many_devices(void **state)
{
	(void)state;
	enum { N = 50000 };
	size_t n_dups;
	char *text = many_devices_spec("example.com/big", N, &n_dups);
	struct nvb_error err;
	struct nvb_cdi_spec *spec = nvb_cdi_spec_parse(text, strlen(text), "big.json", &err);
	assert_non_null(spec);
	struct msgs ms = {.n = 0};
	double t0 = now_s();
	int problems = nvb_cdi_validate(spec, collect, &ms, &err);
	double took = now_s() - t0;
	assert_int_equal(problems, (int)n_dups);
	assert_non_null(strstr(ms.buf, "big.json: device \"d998\": name: duplicate device name (also devices[998])"));
	nvb_cdi_spec_free(spec);
	if (took > 5.0)
		fail_msg("validating %d devices took %.2f s", N, took);

	/* the registry: two directories of valid specs, overrides and same-directory conflicts */
	struct regdirs d;
	regdirs_make(&d);
	FILE *f;
	char *pa = nvb_asprintf("%s/a.json", d.a), *pb = nvb_asprintf("%s/b.json", d.b),
	     *pc = nvb_asprintf("%s/c.json", d.b);
	f = fopen(pa, "w");
	fprintf(f, "{\"cdiVersion\":\"0.5.0\",\"kind\":\"example.com/big\",\"devices\":[");
	for (size_t i = 0; i < N; i++)
		fprintf(f, "%s{\"name\":\"d%zu\",\"containerEdits\":{\"env\":[\"FROM=a\"]}}", i ? "," : "", i);
	fprintf(f, "]}");
	fclose(f);
	/* B overrides the odd ones; c.json defines d1 and d3 again in B: conflicts, dropped */
	f = fopen(pb, "w");
	fprintf(f, "{\"cdiVersion\":\"0.5.0\",\"kind\":\"example.com/big\",\"devices\":[");
	for (size_t i = 1; i < N; i += 2)
		fprintf(f, "%s{\"name\":\"d%zu\",\"containerEdits\":{\"env\":[\"FROM=b\"]}}", i > 1 ? "," : "", i);
	fprintf(f, "]}");
	fclose(f);
	write_text(d.b, "c.json",
		   "{'cdiVersion':'0.5.0','kind':'example.com/big','devices':["
		   "{'name':'d3','containerEdits':{'env':['FROM=c']}},"
		   "{'name':'d1','containerEdits':{'env':['FROM=c']}}]}");
	t0 = now_s();
	struct nvb_cdi_registry *reg = reg_load(&d);
	took = now_s() - t0;
	assert_int_equal(reg->n_entries, N - 2);
	assert_null(nvb_cdi_registry_find(reg, "example.com/big=d1"));
	assert_null(nvb_cdi_registry_find(reg, "example.com/big=d3"));
	assert_origin(reg, "example.com/big=d0", d.a, "a.json");
	assert_origin(reg, "example.com/big=d5", d.b, "b.json");
	assert_origin(reg, "example.com/big=d49999", d.b, "b.json");
	assert_origin(reg, "example.com/big=d49998", d.a, "a.json");
	for (size_t i = 1; i < reg->n_entries; i++)
		assert_true(strcmp(reg->entries[i - 1].qualified, reg->entries[i].qualified) < 0);
	/* one message per conflicting name, in reading order, naming both files */
	assert_int_equal(reg->n_errors, 2);
	assert_true(nvb_str_has_prefix(reg->errors[0], pc));
	assert_non_null(strstr(reg->errors[0], "device example.com/big=d3 is also defined by"));
	assert_non_null(strstr(reg->errors[0], pb));
	assert_non_null(strstr(reg->errors[1], "device example.com/big=d1 is also defined by"));
	nvb_cdi_registry_free(reg);
	free(pa);
	free(pb);
	free(pc);
	regdirs_free(&d);
	free(text);
	if (took > 5.0)
		fail_msg("loading %d devices took %.2f s", N, took);
}

/* A hostile ld.so.cache whose ~700k entries all name one 24 KiB string: one copy per entry
 * would need over 30 GB. The library set points into the cache instead. */
static void test_libscan_hostile_cache(void **state)
{
	(void)state;
	enum { STR = 24 << 10, FILE_SIZE = 17 << 20 };
	char *root = make_tmpdir();
	char *etc = nvb_asprintf("%s/etc", root), *cache = nvb_asprintf("%s/etc/ld.so.cache", root);
	assert_int_equal(mkdir(etc, 0755), 0);
	unsigned char *img = calloc(1, FILE_SIZE);
	assert_non_null(img);
	uint32_t n = (uint32_t)((FILE_SIZE - 48 - STR - 1) / 24);
	uint32_t str_off = 48 + n * 24;
	memcpy(img, "glibc-ld.so.cache1.1", 20);
	memcpy(img + 20, &n, 4);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t e[4] = {0x0303 /* libc6, x86-64 */, str_off, str_off, 0};
		memcpy(img + 48 + (size_t)i * 24, e, sizeof(e));
	}
	memcpy(img + str_off, "lib", 3);
	memset(img + str_off + 3, 'a', STR - 3);
	FILE *f = fopen(cache, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(img, 1, FILE_SIZE, f), FILE_SIZE);
	fclose(f);
	free(img);
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	assert_non_null(host);
	double t0 = now_s();
	struct nvb_libset *set = nvb_libset_load(host, &err);
	double took = now_s() - t0;
	if (!set)
		fail_msg("%s", err.message);
	assert_true(set->from_cache);
	assert_int_equal(set->n, n);
	assert_int_equal(strlen(set->entries[n - 1].path), STR);
	assert_int_equal(set->entries[0].elf_class, 64);
	nvb_libset_free(set);
	nvb_host_free(host);
	free(etc);
	free(cache);
	rm_rf(root);
	if (took > 5.0)
		fail_msg("reading the cache took %.2f s", took);
}

/* One file, several distinct problems: each is reported once, on its own, in document order;
 * the count is theirs; the first also fills err (what the runtime and generate stop at). */
static void test_every_problem_reported(void **state)
{
	(void)state;
	const char *text =
		"{'cdiVersion': '0.2.0', 'kind': 'nvidia', 'devices': ["
		" {'name': 'a b', 'containerEdits': {'env': ['=x'], 'deviceNodes': [{'path': 'rel', 'type': 'z'}],"
		"  'mounts': [{'hostPath': '', 'containerPath': ''}]}},"
		" {'name': 'a b', 'containerEdits': {'hooks': [{'hookName': 'nope', 'path': '', 'env': ['PATH=/bin']}]}}]}";
	static const char *const want[] = {
		"x.json: cdiVersion: \"0.2.0\" is not a known CDI version",
		"x.json: kind: \"nvidia\" is not vendor/class",
		"x.json: device \"a b\": name: \"a b\" is not a valid device name",
		"x.json: device \"a b\": containerEdits.env: entry 0 \"=x\" is not NAME=VALUE",
		"x.json: device \"a b\": containerEdits.deviceNodes[0]: path \"rel\" is not absolute",
		"x.json: device \"a b\": containerEdits.deviceNodes[0]: type \"z\" is not one of b, c, u, p",
		"x.json: device \"a b\": containerEdits.mounts[0]: hostPath is empty",
		"x.json: device \"a b\": containerEdits.mounts[0]: containerPath is empty",
		"x.json: device \"a b\": name: \"a b\" is not a valid device name",
		"x.json: device \"a b\": name: duplicate device name (also devices[0])",
		"x.json: device \"a b\": containerEdits.hooks[0]: hookName \"nope\" is not one of",
		"x.json: device \"a b\": containerEdits.hooks[0]: path is empty",
	};
	struct nvb_error err = {0};
	struct nvb_cdi_spec *spec = parse_text(text, "x.json", &err);
	assert_non_null(spec);
	struct msgs ms = {.n = 0};
	ms.buf[0] = '\0';
	int n = nvb_cdi_validate(spec, collect, &ms, &err);
	if (n != (int)NVB_ARRAY_SIZE(want))
		print_error("%d problems:\n%s", n, ms.buf);
	assert_int_equal(n, NVB_ARRAY_SIZE(want));
	assert_int_equal(ms.n, n);
	/* in order, one line each */
	const char *line = ms.buf;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(want); i++) {
		if (!nvb_str_has_prefix(line, want[i]))
			print_error("problem %zu: wanted \"%s\", got \"%.*s\"\n", i, want[i],
				    (int)strcspn(line, "\n"), line);
		assert_true(nvb_str_has_prefix(line, want[i]));
		line += strcspn(line, "\n") + 1;
	}
	assert_string_equal(line, "");
	/* the first-error use: same count without a reporter, err holds the first problem */
	struct nvb_error first = {0};
	assert_int_equal(nvb_cdi_validate(spec, NULL, NULL, &first), n);
	assert_int_equal(first.code, NVB_ERR_INVALID);
	assert_true(nvb_str_has_prefix(first.message, want[0]));
	assert_non_null(strstr(first.hint, "nvbind cdi generate"));
	nvb_cdi_spec_free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_specs),
		cmocka_unit_test(test_env_without_equals),
		cmocka_unit_test(test_env_equals_first),
		cmocka_unit_test(test_unknown_hook_name),
		cmocka_unit_test(test_empty_device_node_path),
		cmocka_unit_test(test_empty_mount_paths),
		cmocka_unit_test(test_device_without_edits),
		cmocka_unit_test(test_duplicate_device_names),
		cmocka_unit_test(test_unknown_fields),
		cmocka_unit_test(test_invalid_kind),
		cmocka_unit_test(test_invalid_device_names),
		cmocka_unit_test(test_version_too_low),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_min_version),
		cmocka_unit_test(test_codec_round_trip),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_write_atomic_concurrent),
		cmocka_unit_test(test_registry_override),
		cmocka_unit_test(test_registry_conflict),
		cmocka_unit_test(test_registry_files),
		cmocka_unit_test(test_registry_find_and_missing),
		cmocka_unit_test(test_parse_qualified),
		cmocka_unit_test(test_generate_default),
		cmocka_unit_test(test_generate_naming),
		cmocka_unit_test(test_generate_caps),
		cmocka_unit_test(test_generate_host_root),
		cmocka_unit_test(test_generate_errors),
		cmocka_unit_test(test_spec_fifo),
		cmocka_unit_test(test_world_writable_warnings),
		cmocka_unit_test(test_hook_without_env_warns),
		cmocka_unit_test(test_many_devices),
		cmocka_unit_test(test_libscan_hostile_cache),
		cmocka_unit_test(test_every_problem_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
