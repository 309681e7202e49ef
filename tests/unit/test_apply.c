/* SPDX-License-Identifier: Apache-2.0 */
/* nvb_oci_apply_edits (src/oci/apply.c): CDI container edits on an OCI config.json, with the
 * CDI reference semantics of docs/design/cdi-semantics.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cdi/cdi.h"
#include "oci/oci.h"

#define S(x) ((char *)(x))

static json_t *config_from(const char *text)
{
	json_error_t jerr;
	json_t *c = json_loads(text, 0, &jerr);
	assert_non_null(c);
	return c;
}

static int apply1(json_t *c, const struct nvb_cdi_edits *e, struct nvb_error *err)
{
	const struct nvb_cdi_edits *list[] = {e};
	return nvb_oci_apply_edits(c, list, 1, err);
}

static struct nvb_cdi_device_node node(const char *path)
{
	struct nvb_cdi_device_node n = {.path = S(path)};
	n.major = n.minor = n.file_mode = n.uid = n.gid = NVB_CDI_UNSET;
	return n;
}

static const char *str_at(json_t *array, size_t i)
{
	return json_string_value(json_array_get(array, i));
}

static void test_env_replace_by_name(void **state)
{
	json_t *c = config_from("{\"process\":{\"env\":[\"PATH=/bin\",\"NVIDIA_X=old\",\"NVIDIA_XY=keep\","
				"\"NOEQUALS\"]}}");
	char *env[] = {S("NVIDIA_X=new"), S("NEW=1"), S("NOEQUALS=now"), S("NEW=2")};
	struct nvb_cdi_edits e = {.env = env, .n_env = 4};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	json_t *list = json_object_get(json_object_get(c, "process"), "env");
	assert_int_equal(json_array_size(list), 6);
	assert_string_equal(str_at(list, 0), "PATH=/bin");
	/* replaced in place; a longer name with the same prefix is another variable */
	assert_string_equal(str_at(list, 1), "NVIDIA_X=new");
	assert_string_equal(str_at(list, 2), "NVIDIA_XY=keep");
	/* an entry without '=' is not a variable of that name: the edit is appended */
	assert_string_equal(str_at(list, 3), "NOEQUALS");
	/* the second NEW of the same edits replaces the first */
	assert_string_equal(str_at(list, 4), "NEW=2");
	assert_string_equal(str_at(list, 5), "NOEQUALS=now");
	json_decref(c);
	(void)state;
}

/* /dev/null is a character device on every machine that runs the tests. */
static void test_node_completed_from_host(void **state)
{
	struct stat st;
	assert_int_equal(lstat("/dev/null", &st), 0);
	json_t *c = config_from("{}");
	struct nvb_cdi_device_node nodes[] = {node("/dev/nvidia0")};
	nodes[0].host_path = S("/dev/null");
	struct nvb_cdi_edits e = {.nodes = nodes, .n_nodes = 1};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	json_t *linux_ = json_object_get(c, "linux");
	json_t *dev = json_array_get(json_object_get(linux_, "devices"), 0);
	assert_string_equal(json_string_value(json_object_get(dev, "path")), "/dev/nvidia0");
	assert_string_equal(json_string_value(json_object_get(dev, "type")), "c");
	assert_int_equal(json_integer_value(json_object_get(dev, "major")), major(st.st_rdev));
	assert_int_equal(json_integer_value(json_object_get(dev, "minor")), minor(st.st_rdev));
	assert_int_equal(json_integer_value(json_object_get(dev, "fileMode")), st.st_mode & 0777);
	assert_null(json_object_get(dev, "uid"));
	json_t *rules = json_object_get(json_object_get(linux_, "resources"), "devices");
	assert_int_equal(json_array_size(rules), 1);
	json_t *rule = json_array_get(rules, 0);
	assert_true(json_is_true(json_object_get(rule, "allow")));
	assert_string_equal(json_string_value(json_object_get(rule, "type")), "c");
	assert_int_equal(json_integer_value(json_object_get(rule, "major")), major(st.st_rdev));
	assert_string_equal(json_string_value(json_object_get(rule, "access")), "rwm");
	json_decref(c);
	(void)state;
}

/* A symbolic link to a device node is not a device node: lstat, never stat. */
static void test_node_symlink_not_followed(void **state)
{
	char dir[] = "/tmp/nvb-apply-XXXXXX", link[64];
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/nvidia0", dir);
	assert_int_equal(symlink("/dev/null", link), 0);
	json_t *c = config_from("{}");
	struct nvb_cdi_device_node nodes[] = {node("/dev/nvidia0")};
	nodes[0].host_path = link;
	struct nvb_cdi_edits e = {.nodes = nodes, .n_nodes = 1};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), -1);
	assert_non_null(strstr(err.message, link));
	assert_non_null(strstr(err.message, "not a device node"));
	/* a host node that does not exist: the error names it and says what to do */
	nodes[0].host_path = S("/dev/nvb-test-no-such-node");
	assert_int_equal(apply1(c, &e, &err), -1);
	assert_non_null(strstr(err.message, "/dev/nvb-test-no-such-node"));
	assert_non_null(strstr(err.hint, "cdi generate"));
	json_decref(c);
	unlink(link);
	rmdir(dir);
	(void)state;
}

static void test_node_replace_and_rules(void **state)
{
	json_t *c = config_from("{\"linux\":{\"devices\":[{\"path\":\"/dev/other\",\"type\":\"c\","
				"\"major\":1,\"minor\":3},{\"path\":\"/dev/nvidia0\",\"type\":\"c\","
				"\"major\":9,\"minor\":9}]}}");
	struct nvb_cdi_device_node nodes[] = {node("/dev/nvidia0"), node("/dev/sdz"), node("/dev/fifo")};
	nodes[0].type = S("c");
	nodes[0].major = 195;
	nodes[0].minor = 0;
	nodes[0].permissions = S("rw");
	nodes[0].uid = 0;
	nodes[0].gid = 44;
	nodes[1].type = S("b");
	nodes[1].major = 8;
	nodes[1].minor = 16;
	nodes[2].type = S("p"); /* a pipe: no numbers, no cgroup rule */
	struct nvb_cdi_edits e = {.nodes = nodes, .n_nodes = 3};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	json_t *linux_ = json_object_get(c, "linux");
	json_t *devs = json_object_get(linux_, "devices");
	assert_int_equal(json_array_size(devs), 4);
	assert_string_equal(json_string_value(json_object_get(json_array_get(devs, 0), "path")), "/dev/other");
	json_t *nv = json_array_get(devs, 1); /* replaced where it was */
	assert_string_equal(json_string_value(json_object_get(nv, "path")), "/dev/nvidia0");
	assert_int_equal(json_integer_value(json_object_get(nv, "major")), 195);
	assert_int_equal(json_integer_value(json_object_get(nv, "minor")), 0);
	assert_int_equal(json_integer_value(json_object_get(nv, "gid")), 44);
	assert_int_equal(json_integer_value(json_object_get(nv, "uid")), 0);
	json_t *fifo = json_array_get(devs, 3);
	assert_string_equal(json_string_value(json_object_get(fifo, "type")), "p");
	assert_null(json_object_get(fifo, "major"));
	json_t *rules = json_object_get(json_object_get(linux_, "resources"), "devices");
	assert_int_equal(json_array_size(rules), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 0), "access")), "rw");
	assert_string_equal(json_string_value(json_object_get(json_array_get(rules, 1), "type")), "b");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rules, 1), "minor")), 16);
	json_decref(c);
	(void)state;
}

static struct nvb_cdi_mount mount(const char *host, const char *dest)
{
	static char *opts[] = {S("ro"), S("nosuid"), S("nodev"), S("bind")};
	return (struct nvb_cdi_mount){.host_path = S(host), .container_path = S(dest),
				      .options = opts, .n_options = 4};
}

static const char *dest_at(json_t *mounts, size_t i)
{
	return json_string_value(json_object_get(json_array_get(mounts, i), "destination"));
}

static void test_mounts_replace_and_depth_order(void **state)
{
	json_t *c = config_from("{\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
				"{\"destination\":\"/usr/lib/x/libcuda.so.1\",\"source\":\"/old\"},"
				"{\"destination\":\"/dev/shm\",\"source\":\"shm\"}]}");
	struct nvb_cdi_mount m[] = {
		mount("/h/libcuda.so.580", "/usr/lib/x/libcuda.so.1"), /* replaces /old in place */
		mount("/h/a", "/usr/lib/x/a.so"),
		mount("/h/b", "/usr/bin/nvidia-smi"),
		mount("/h/run", "/run"),
		mount("/h/b2", "/usr/lib/x/b.so"),
	};
	struct nvb_cdi_edits e = {.mounts = m, .n_mounts = NVB_ARRAY_SIZE(m)};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	json_t *mounts = json_object_get(c, "mounts");
	assert_int_equal(json_array_size(mounts), 7);
	/* by depth; within a depth in the order they came (existing mounts first) */
	const char *want[] = {"/proc", "/run", "/dev/shm", "/usr/bin/nvidia-smi",
			      "/usr/lib/x/libcuda.so.1", "/usr/lib/x/a.so", "/usr/lib/x/b.so"};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(want); i++)
		assert_string_equal(dest_at(mounts, i), want[i]);
	json_t *cuda = json_array_get(mounts, 4);
	assert_string_equal(json_string_value(json_object_get(cuda, "source")), "/h/libcuda.so.580");
	assert_int_equal(json_array_size(json_object_get(cuda, "options")), 4);
	assert_null(json_object_get(cuda, "type"));
	json_decref(c);
	(void)state;
}

/* Past the size where apply indexes destinations in a hash, replacement still finds the entry
 * (and the one the edits themselves appended). */
static void test_mounts_replace_many(void **state)
{
	json_t *c = config_from("{\"mounts\":[]}");
	json_t *mounts = json_object_get(c, "mounts");
	for (int i = 0; i < 100; i++) {
		char d[32];
		snprintf(d, sizeof(d), "/m/%03d", i);
		json_array_append_new(mounts, json_pack("{s:s,s:s}", "destination", d, "source", "x"));
	}
	struct nvb_cdi_mount m[] = {mount("/h/new", "/m/077"), mount("/h/z", "/m/new"),
				    mount("/h/z2", "/m/new")};
	struct nvb_cdi_edits e = {.mounts = m, .n_mounts = 3};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	assert_int_equal(json_array_size(mounts), 101);
	assert_string_equal(dest_at(mounts, 77), "/m/077");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mounts, 77), "source")), "/h/new");
	assert_string_equal(json_string_value(json_object_get(json_array_get(mounts, 100), "source")), "/h/z2");
	json_decref(c);
	(void)state;
}

static void test_hooks_appended_with_env(void **state)
{
	json_t *c = config_from("{\"hooks\":{\"createContainer\":[{\"path\":\"/bin/existing\"}]}}");
	char *args[] = {S("nvbind-hook"), S("update-ldcache")};
	char *env[] = {S("A=1")};
	struct nvb_cdi_hook h[] = {
		{.hook_name = S("createContainer"), .path = S("/usr/bin/nvbind-hook"), .args = args,
		 .n_args = 2, .timeout = NVB_CDI_UNSET},
		{.hook_name = S("startContainer"), .path = S("/bin/x"), .env = env, .n_env = 1,
		 .timeout = 5},
	};
	struct nvb_cdi_edits e = {.hooks = h, .n_hooks = 2};
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	json_t *hooks = json_object_get(c, "hooks");
	json_t *cc = json_object_get(hooks, "createContainer");
	assert_int_equal(json_array_size(cc), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cc, 0), "path")), "/bin/existing");
	json_t *ours = json_array_get(cc, 1);
	assert_int_equal(json_array_size(json_object_get(ours, "args")), 2);
	/* no env in the spec: an explicit PATH-only env, never the container's */
	json_t *henv = json_object_get(ours, "env");
	assert_int_equal(json_array_size(henv), 1);
	assert_true(nvb_str_has_prefix(str_at(henv, 0), "PATH="));
	assert_null(json_object_get(ours, "timeout"));
	json_t *sc = json_array_get(json_object_get(hooks, "startContainer"), 0);
	assert_string_equal(str_at(json_object_get(sc, "env"), 0), "A=1");
	assert_int_equal(json_integer_value(json_object_get(sc, "timeout")), 5);
	json_decref(c);
	(void)state;
}

static void test_additional_gids_dedup(void **state)
{
	json_t *c = config_from("{\"process\":{\"user\":{\"uid\":0,\"gid\":0,\"additionalGids\":[44]}}}");
	int64_t g1[] = {44, 109, 109};
	int64_t g2[] = {109, 27};
	struct nvb_cdi_edits e1 = {.additional_gids = g1, .n_additional_gids = 3};
	struct nvb_cdi_edits e2 = {.additional_gids = g2, .n_additional_gids = 2};
	const struct nvb_cdi_edits *list[] = {&e1, &e2};
	struct nvb_error err;
	assert_int_equal(nvb_oci_apply_edits(c, list, 2, &err), 0);
	json_t *gids = json_object_get(json_object_get(json_object_get(c, "process"), "user"),
				       "additionalGids");
	assert_int_equal(json_array_size(gids), 3);
	assert_int_equal(json_integer_value(json_array_get(gids, 0)), 44);
	assert_int_equal(json_integer_value(json_array_get(gids, 1)), 109);
	assert_int_equal(json_integer_value(json_array_get(gids, 2)), 27);
	json_decref(c);
	(void)state;
}

/* Each wrong type in config.json fails with an error naming the field, and null counts as absent. */
static void test_bad_types_named(void **state)
{
	char *env[] = {S("A=1")};
	struct nvb_cdi_device_node nodes[] = {node("/dev/x")};
	nodes[0].type = S("c");
	nodes[0].major = 1;
	nodes[0].minor = 2;
	struct nvb_cdi_mount m[] = {mount("/h", "/c")};
	struct nvb_cdi_hook h[] = {{.hook_name = S("prestart"), .path = S("/p"), .timeout = NVB_CDI_UNSET}};
	int64_t gids[] = {5};
	struct nvb_cdi_edits e = {.env = env, .n_env = 1, .nodes = nodes, .n_nodes = 1,
				  .mounts = m, .n_mounts = 1, .hooks = h, .n_hooks = 1,
				  .additional_gids = gids, .n_additional_gids = 1};
	static const struct {
		const char *config, *field;
	} cases[] = {
		{"{\"mounts\":{}}", "mounts"},
		{"{\"process\":[]}", "process.env"},
		{"{\"process\":{\"env\":\"A=1\"}}", "process.env"},
		{"{\"linux\":7}", "linux.devices"},
		{"{\"linux\":{\"devices\":{}}}", "linux.devices"},
		{"{\"linux\":{\"resources\":{\"devices\":true}}}", "linux.resources.devices"},
		{"{\"hooks\":[]}", "hooks"},
		{"{\"hooks\":{\"prestart\":{}}}", "hooks"},
		{"{\"process\":{\"user\":\"root\"}}", "process.user.additionalGids"},
		{"{\"process\":{\"user\":{\"additionalGids\":5}}}", "process.user.additionalGids"},
	};
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cases); i++) {
		json_t *c = config_from(cases[i].config);
		struct nvb_error err;
		assert_int_equal(apply1(c, &e, &err), -1);
		if (!strstr(err.message, cases[i].field) || !strstr(err.message, "config.json"))
			fail_msg("%s: error \"%s\" does not name %s", cases[i].config, err.message,
				 cases[i].field);
		json_decref(c);
	}
	json_t *c = config_from("{\"mounts\":null,\"process\":{\"env\":null},\"hooks\":null}");
	struct nvb_error err;
	assert_int_equal(apply1(c, &e, &err), 0);
	assert_int_equal(json_array_size(json_object_get(c, "mounts")), 1);
	json_decref(c);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env_replace_by_name),
		cmocka_unit_test(test_node_completed_from_host),
		cmocka_unit_test(test_node_symlink_not_followed),
		cmocka_unit_test(test_node_replace_and_rules),
		cmocka_unit_test(test_mounts_replace_and_depth_order),
		cmocka_unit_test(test_mounts_replace_many),
		cmocka_unit_test(test_hooks_appended_with_env),
		cmocka_unit_test(test_additional_gids_dedup),
		cmocka_unit_test(test_bad_types_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
