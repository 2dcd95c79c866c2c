# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The bucket list and worker pool that every segments.cloud module takes.
    DOCUMENTATION = r"""
options:
  name:
    description:
      - One bucket name or a list of bucket names.
      - A whole fleet is one module call; the buckets are processed concurrently, each on its own.
      - A failure on one bucket never stops the others. The task fails at the end if any bucket failed,
        and C(msg) names each failed bucket and why. The other buckets' changes stand and are reported.
      - Repeated names are processed once.
    type: list
    elements: str
    required: true
    aliases: [bucket, buckets]
  concurrency:
    description:
      - How many buckets are processed at the same time.
      - One client per region is shared by all workers; its connection pool is sized to match.
      - Lower it when the cloud throttles the requests.
    type: int
    default: 16
"""
