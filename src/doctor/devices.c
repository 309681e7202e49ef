/* SPDX-License-Identifier: Apache-2.0 */
/* doctor, check "devices": the permissions of the GPU, MIG and control device nodes, with the
 * fix that keeps them (DeviceFileMode, udev) (docs/doctor.md). */
#include "doctor/checks.h"

/* ------------------------------------------------- 2. device node permissions */

/* DeviceFileMode and ModifyDeviceFiles from /proc/driver/nvidia/params; -1 when unknown. */
static void driver_params(struct nvb_doctor_ctx *ctx, long *file_mode, long *modify)
{
	*file_mode = -1;
	*modify = -1;
	struct nvb_error ignored;
	_cleanup_free_ char *text = NULL;
	if (nvb_host_read(ctx->host, "/proc/driver/nvidia/params", NVB_DOCTOR_SMALL_MAX, &text,
			  NULL, &ignored) < 0)
		return;
	const char *p = strstr(text, "DeviceFileMode:");
	if (p)
		*file_mode = strtol(p + strlen("DeviceFileMode:"), NULL, 10);
	p = strstr(text, "ModifyDeviceFiles:");
	if (p)
		*modify = strtol(p + strlen("ModifyDeviceFiles:"), NULL, 10);
}

static int check_node_mode(struct nvb_doctor_ctx *ctx, const struct nvb_device_node *node,
			   bool cap_node, long file_mode, size_t *bad, struct nvb_error *err)
{
	unsigned need = cap_node ? 0004 : 0006;
	if ((node->mode & need) == need)
		return 0;
	(*bad)++;
	_cleanup_free_ char *where = nvb_doctor_shown(ctx, node->path);
	_cleanup_free_ char *fix = NULL;
	if (!where)
		return nvb_error_nomem(err);
	if (cap_node)
		fix = nvb_asprintf("chmod 0444 %s (MIG capability nodes are opened read-only; "
				   "nvidia-modprobe creates them with the DeviceFileMode of their "
				   "/proc/driver/nvidia/capabilities access file)",
				   where);
	else if (nvb_str_has_prefix(node->path, "/dev/nvidia-uvm"))
		fix = nvb_asprintf("chmod 0666 %s; to keep it, have nvidia-modprobe create it "
				   "('nvidia-modprobe -u -c 0') or add a udev rule: "
				   "KERNEL==\"nvidia-uvm*\", MODE=\"0666\" in "
				   "/etc/udev/rules.d/70-nvidia.rules",
				   where);
	else if (file_mode >= 0 && (file_mode & 0666) != 0666)
		fix =
		    nvb_asprintf("chmod 0666 %s; the driver creates its nodes with DeviceFileMode "
				 "0%lo: set 'options nvidia NVreg_DeviceFileMode=0666' in "
				 "/etc/modprobe.d/nvidia.conf and reload the module (or reboot)",
				 where, (unsigned long)file_mode);
	else
		fix =
		    nvb_asprintf("chmod 0666 %s (the driver's DeviceFileMode is 0666: a udev rule "
				 "or a hand edit changed it; check /etc/udev/rules.d)",
				 where);
	if (!fix)
		return nvb_error_nomem(err);
	return ADD(ctx, NVB_DOCTOR_WARNING, "devices", "device-node-permissions", fix,
		   "%s has mode 0%03o (owner %u, group %u): rootless containers cannot open it "
		   "(they need %s for everyone; root containers are not affected)",
		   where, node->mode & 0777, node->uid, node->gid,
		   cap_node ? "read access" : "read and write access");
}

static void list_add(char *list, size_t cap, size_t *more_count, const char *path)
{
	size_t used = strlen(list);
	if (used + strlen(path) + 8 < cap)
		snprintf(list + used, cap - used, "%s%s", used ? ", " : "", path);
	else
		(*more_count)++;
}

int nvb_doctor_check_device_nodes(struct nvb_doctor_ctx *ctx, struct nvb_error *err)
{
	const struct nvb_inventory *inv = ctx->inv;
	if (inv->n_gpus == 0 && inv->n_control_nodes == 0)
		return 0; /* no driver: the driver check says so */
	long file_mode, modify;
	driver_params(ctx, &file_mode, &modify);
	size_t checked = 0, bad = 0, more_count = 0;
	char list[600] = "";
	for (size_t i = 0; i < inv->n_gpus; i++) {
		const struct nvb_gpu *g = &inv->gpus[i];
		for (size_t k = 0; k < g->n_nodes; k++) {
			/* DRM nodes are the video/render groups' business, not everyone's */
			if (nvb_str_has_prefix(g->nodes[k].path, "/dev/dri/"))
				continue;
			checked++;
			list_add(list, sizeof(list), &more_count, g->nodes[k].path);
			if (check_node_mode(ctx, &g->nodes[k], false, file_mode, &bad, err) < 0)
				return -1;
		}
		for (size_t m = 0; m < g->n_migs; m++)
			for (size_t k = 0; k < g->migs[m].n_nodes; k++) {
				checked++;
				list_add(list, sizeof(list), &more_count, g->migs[m].nodes[k].path);
				if (check_node_mode(ctx, &g->migs[m].nodes[k], true, file_mode,
						    &bad, err) < 0)
					return -1;
			}
	}
	for (size_t i = 0; i < inv->n_control_nodes; i++) {
		/* MIG config/monitor caps are for administrators (mode 0400/0444 by design) */
		if (nvb_str_has_prefix(inv->control_nodes[i].path, "/dev/nvidia-caps/"))
			continue;
		checked++;
		list_add(list, sizeof(list), &more_count, inv->control_nodes[i].path);
		if (check_node_mode(ctx, &inv->control_nodes[i], false, file_mode, &bad, err) < 0)
			return -1;
	}
	if (bad || !checked)
		return 0;
	return ADD(ctx, NVB_DOCTOR_OK, "devices", "device-nodes-ok", NULL,
		   "%zu device node(s) are character devices that rootless containers can open: "
		   "%s%s",
		   checked, list, more_count ? ", ..." : "");
}
