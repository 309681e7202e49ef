/* SPDX-License-Identifier: Apache-2.0 */
#include "core/core.h"

static const char *const errc_names[] = {
	[NVB_OK] = "ok",
	[NVB_ERR_IO] = "io",
	[NVB_ERR_NOT_FOUND] = "not-found",
	[NVB_ERR_PARSE] = "parse",
	[NVB_ERR_INVALID] = "invalid",
	[NVB_ERR_NOMEM] = "no-memory",
	[NVB_ERR_PERMISSION] = "permission",
	[NVB_ERR_UNSUPPORTED] = "unsupported",
	[NVB_ERR_DRIVER] = "driver",
	[NVB_ERR_SECURITY] = "security",
	[NVB_ERR_USAGE] = "usage",
};

const char *nvb_errc_name(enum nvb_errc code)
{
	if ((unsigned)code < NVB_ARRAY_SIZE(errc_names) && errc_names[code])
		return errc_names[code];
	return "unknown";
}

void nvb_error_clear(struct nvb_error *err)
{
	if (!err)
		return;
	err->code = NVB_OK;
	err->sys_errno = 0;
	err->message[0] = '\0';
	err->hint[0] = '\0';
}

static void set_hint(struct nvb_error *err, const char *hint)
{
	if (hint)
		snprintf(err->hint, sizeof(err->hint), "%s", hint);
	else
		err->hint[0] = '\0';
}

int nvb_error_set(struct nvb_error *err, enum nvb_errc code, int sys_errno, const char *hint,
		  const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->code = code;
	err->sys_errno = sys_errno;
	set_hint(err, hint);
	return -1;
}

static enum nvb_errc errc_from_errno(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return NVB_ERR_NOT_FOUND;
	case EACCES:
	case EPERM:
		return NVB_ERR_PERMISSION;
	case ENOMEM:
		return NVB_ERR_NOMEM;
	case ELOOP:
	case EXDEV:
		return NVB_ERR_SECURITY;
	default:
		return NVB_ERR_IO;
	}
}

int nvb_error_errno(struct nvb_error *err, int sys_errno, const char *hint, const char *fmt, ...)
{
	if (!err)
		return -1;
	char msg[NVB_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(err->message, sizeof(err->message), "%s: %s", msg, strerror(sys_errno));
	err->code = errc_from_errno(sys_errno);
	err->sys_errno = sys_errno;
	if (!hint && err->code == NVB_ERR_PERMISSION)
		hint = "run as root, or check the file's permissions";
	set_hint(err, hint);
	return -1;
}

void nvb_error_prefix(struct nvb_error *err, const char *fmt, ...)
{
	if (!err)
		return;
	char prefix[NVB_ERROR_MSG_MAX];
	char old[NVB_ERROR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->message, sizeof(old));
	snprintf(err->message, sizeof(err->message), "%s: %s", prefix, old);
}

int nvb_error_nomem(struct nvb_error *err)
{
	return nvb_error_set(err, NVB_ERR_NOMEM, ENOMEM, NULL, "out of memory");
}
