# File generated from our OpenAPI spec by Stainless. See CONTRIBUTING.md for details.

from __future__ import annotations

from .fine_tuning_job import FineTuningJob as FineTuningJob
from .job_list_params import JobListParams as JobListParams
from .job_create_params import JobCreateParams as JobCreateParams
from .fine_tuning_job_event import FineTuningJobEvent as FineTuningJobEvent
from .job_list_events_params import JobListEventsParams as JobListEventsParams
from .fine_tuning_job_integration import FineTuningJobIntegration as FineTuningJobIntegration
from .fine_tuning_job_wandb_integration import FineTuningJobWandbIntegration as FineTuningJobWandbIntegration
from .fine_tuning_job_wandb_integration_object import (
    FineTuningJobWandbIntegrationObject as FineTuningJobWandbIntegrationObject,
)
