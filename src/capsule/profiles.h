/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built-in workload profiles (docs/profiles.md): driver capabilities and the environment
 * variables a kind of workload's software reads. One table for the library (a capsule's
 * profile, src/capsule/capsule.c) and the configuration file (src/config, where user profiles
 * are added and may replace these by name).
 */
#ifndef NVB_CAPSULE_PROFILES_H
#define NVB_CAPSULE_PROFILES_H

#include "core/core.h"

#define NVB_BUILTIN_PROFILE_ENV_MAX 8

struct nvb_builtin_profile {
	const char *name, *description, *capabilities;
	const char *env[NVB_BUILTIN_PROFILE_ENV_MAX]; /* NAME=VALUE, NULL-terminated */
};

NVB_INTERNAL extern const struct nvb_builtin_profile nvb_builtin_profiles[];
NVB_INTERNAL extern const size_t nvb_n_builtin_profiles;

/* The built-in profile of that name, NULL when there is none. */
NVB_INTERNAL const struct nvb_builtin_profile *nvb_builtin_profile(const char *name);

#endif
