# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The options of the restore modules, whose buckets come from backup files rather than from name.
    DOCUMENTATION = r"""
options:
  backup:
    description:
      - Paths of backup files written by M(segments.cloud.segments_backup), on the machine the module runs on, each
        holding one bucket of this module's cloud. The buckets to restore are the ones the files name.
      - Every file is read and checked before any call; a file that is not a backup for this module, or two files for
        the same bucket, fail the task before anything is written.
    type: list
    elements: path
    required: true
    aliases: [backups]
  force:
    description:
      - Restore buckets whose foreign parts changed since the backup, overwriting those changes. What was overwritten is
        returned in RV(buckets[].differences) and shown as a warning.
    type: bool
    default: false
  concurrency:
    description:
      - How many buckets are processed at the same time.
      - One client per region is shared by all workers; its connection pool is sized to match.
      - Lower it when the cloud throttles the requests.
    type: int
    default: 16
"""
