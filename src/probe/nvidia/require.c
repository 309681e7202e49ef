/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NVIDIA's container conventions that are not discovery: which CUDA version a driver branch
 * supports (the NVIDIA_REQUIRE_* constraints are checked against it) and the device words of
 * NVIDIA_VISIBLE_DEVICES. The wrapper (src/oci/prepare.c) applies them.
 */
#include <ctype.h>

#include "probe/nvidia/nvidia.h"

static const struct {
	int driver_major; /* first driver branch of that CUDA version (NVIDIA's release notes) */
	int cuda;
} cuda_table[] = {
	{580, 13000}, {575, 12090}, {570, 12080}, {565, 12070}, {560, 12060}, {555, 12050},
	{550, 12040}, {545, 12030}, {535, 12020}, {530, 12010}, {525, 12000}, {520, 11080},
	{515, 11070}, {510, 11060}, {495, 11050}, {470, 11040}, {465, 11030}, {460, 11020},
	{455, 11010}, {450, 11000}, {440, 10020}, {418, 10010}, {410, 10000},
};

int nvb_cuda_version_for_driver(const char *driver_version)
{
	int major = driver_version ? atoi(driver_version) : 0;
	for (size_t i = 0; i < NVB_ARRAY_SIZE(cuda_table); i++)
		if (major >= cuda_table[i].driver_major)
			return cuda_table[i].cuda;
	return 0;
}

/* Compare dotted numeric versions; missing components count as 0. */
static int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		unsigned long x = strtoul(a, (char **)&a, 10), y = strtoul(b, (char **)&b, 10);
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.')
			a++;
		if (*b == '.')
			b++;
		if ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b)))
			break;
	}
	return 0;
}

static bool op_holds(const char *op, int cmp)
{
	if (!strcmp(op, ">="))
		return cmp >= 0;
	if (!strcmp(op, "<="))
		return cmp <= 0;
	if (!strcmp(op, ">"))
		return cmp > 0;
	if (!strcmp(op, "<"))
		return cmp < 0;
	if (!strcmp(op, "!="))
		return cmp != 0;
	return cmp == 0; /* "=" and "==" */
}

/* One "key<op>value" constraint: 1 holds, 0 fails, -1 malformed; unknown keys hold (logged). */
static int constraint_holds(const char *c, const char *driver, const char *cuda, char *why,
			    size_t cap)
{
	size_t klen = strcspn(c, "<>=!");
	if (klen == 0 || !c[klen])
		return -1;
	char key[32], op[3] = {0};
	snprintf(key, sizeof(key), "%.*s", (int)(klen < 31 ? klen : 31), c);
	const char *p = c + klen;
	size_t olen = strspn(p, "<>=!");
	if (olen == 0 || olen > 2)
		return -1;
	memcpy(op, p, olen);
	const char *value = p + olen;
	if (!*value || !isdigit((unsigned char)*value))
		return strcmp(key, "brand") == 0 ? 1 : -1;
	const char *have = !strcmp(key, "cuda") ? cuda : !strcmp(key, "driver") ? driver : NULL;
	if (!have) {
		nvb_debug("runtime", "requirement %s: '%s' is not known here, not checked", c, key);
		return 1;
	}
	bool ok = op_holds(op, version_cmp(have, value));
	(void)have;
	if (!ok)
		snprintf(why, cap, "%s", c);
	return ok;
}

/* A group is comma-separated constraints that must all hold. */
static int group_holds(char *group, const char *driver, const char *cuda, char *why, size_t cap,
		       bool *has_brand)
{
	char *save = NULL;
	int result = 1;
	for (char *c = strtok_r(group, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
		if (nvb_str_has_prefix(c, "brand"))
			*has_brand = true;
		int r = constraint_holds(c, driver, cuda, why, cap);
		if (r < 0)
			return -1;
		if (r == 0)
			result = 0;
	}
	return result;
}

/* Groups are space-separated and must all hold, except groups naming a brand, which are
 * alternatives (CUDA images list one per supported driver branch): one of them must hold. */
int nvb_require_check(const char *var, const char *value, const char *driver, int cuda_version,
		      struct nvb_error *err)
{
	if (!driver)
		return nvb_error_set(err, NVB_ERR_DRIVER, 0, "check 'nvbind info'",
				     "%s=%s cannot be checked: the NVIDIA driver version is unknown",
				     var, value);
	char cuda[32];
	snprintf(cuda, sizeof(cuda), "%d.%d", cuda_version / 1000, (cuda_version % 1000) / 10);
	_cleanup_free_ char *copy = strdup(value);
	if (!copy)
		return nvb_error_nomem(err);
	char why[256] = "", brand_why[256] = "";
	bool brand_seen = false, brand_ok = false;
	char *save = NULL;
	for (char *g = strtok_r(copy, " \t", &save); g; g = strtok_r(NULL, " \t", &save)) {
		bool has_brand = false;
		char gwhy[256] = "";
		int r = group_holds(g, driver, cuda, gwhy, sizeof(gwhy), &has_brand);
		if (r < 0)
			return nvb_error_set(err, NVB_ERR_INVALID, 0,
					     "constraints look like cuda>=12.0 or driver>=550",
					     "%s: malformed constraint in '%s'", var, value);
		if (has_brand) {
			brand_seen = true;
			brand_ok = brand_ok || r == 1;
			if (r == 0 && !brand_why[0])
				snprintf(brand_why, sizeof(brand_why), "%s", gwhy);
		} else if (r == 0 && !why[0]) {
			snprintf(why, sizeof(why), "%s", gwhy);
		}
	}
	if (!why[0] && brand_seen && !brand_ok)
		snprintf(why, sizeof(why), "%s", brand_why);
	if (why[0])
		return nvb_error_set(err, NVB_ERR_DRIVER, 0,
				     "run the container on a host with a newer driver, or set "
				     "NVIDIA_DISABLE_REQUIRE=true to skip the check",
				     "unsatisfied requirement %s: %s (driver %s supports CUDA %s)", var,
				     why, driver, cuda);
	return 0;
}

bool nvb_nvidia_device_word(const char *s)
{
	if (!strcmp(s, "all") || nvb_str_has_prefix(s, "GPU-") || nvb_str_has_prefix(s, "MIG-"))
		return true;
	/* 0, 12, or a MIG index 0:1 */
	size_t d = strspn(s, "0123456789");
	if (d == 0)
		return false;
	if (!s[d])
		return true;
	return s[d] == ':' && s[d + 1] && strspn(s + d + 1, "0123456789") == strlen(s + d + 1);
}
