# -*- coding: utf-8 -*-
# Copyright: Contributors to the segments.cloud project
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one exception type of every cloud: a failure on one bucket, turned into its message in one place."""

from __future__ import annotations


class BucketError(Exception):
    """A failure on one bucket: which bucket, what was being done, what went wrong and what the user can do."""

    # What the message calls the bucket; a cloud whose buckets have another name sets its own.
    noun = "bucket"

    def __init__(self, bucket, action, problem, remedy=None, in_flight=False):
        self.bucket = bucket
        self.action = action
        self.problem = problem
        self.remedy = remedy
        # True when no answer came (a timeout, a dropped connection, a 5xx): the request may still reach the cloud
        # later, so a read showing it did not land yet proves nothing.
        self.in_flight = in_flight
        super().__init__(self.message)

    @property
    def message(self):
        text = "%s '%s': %s failed: %s" % (self.noun, self.bucket, self.action, self.problem)
        if self.remedy:
            text += ". " + self.remedy
        return text


class WriteOutcomeUnknown(BucketError):
    """A write that may or may not have been applied: its answer was lost, or it was answered but could not be read
    back."""
