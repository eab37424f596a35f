//! What exists in one region: each resource's record, and how the passage of time changes them (a
//! customization job completing into a custom model, provisioned throughput coming into service).
//! Every resource file reads and renders these records; the store holds one [`RegionState`] per
//! region.

use super::catalog::CatalogModel;
use crate::aws::arn;
use crate::hash::stable_hash;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// How long simulated work takes.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// A customization job's training time; also how long provisioned throughput takes to come
    /// into service (`--bedrock-customization-seconds`).
    pub work: Duration,
}

impl Timing {
    /// A stopped job lingers in `Stopping` this long before it is `Stopped`.
    pub fn stop_delay(&self) -> Duration {
        self.work.min(Duration::from_secs(1))
    }
}

/// Everything that exists in one region.
#[derive(Debug, Default)]
pub struct RegionState {
    pub guardrails: Vec<Guardrail>,
    pub app_profiles: Vec<AppProfile>,
    pub jobs: Vec<Job>,
    pub custom_models: Vec<CustomModel>,
    pub provisioned: Vec<Provisioned>,
    /// `PutModelInvocationLoggingConfiguration`'s `loggingConfig`, as stored.
    pub logging: Option<Value>,
    /// Tags by resource ARN, in the order they were first set.
    pub tags: HashMap<String, Vec<Tag>>,
}

impl RegionState {
    /// Applies every state change whose time has come.
    pub fn advance(&mut self, now: SystemTime, timing: Timing) {
        for job in &mut self.jobs {
            if let Some((model, tags)) = job.advance(now, timing) {
                if !tags.is_empty() {
                    self.tags.insert(model.arn.clone(), tags);
                }
                self.custom_models.push(model);
            }
        }
        for pt in &mut self.provisioned {
            pt.advance(now);
        }
    }

    /// Drops a deleted resource's tags with it.
    pub fn forget_tags(&mut self, arn: &str) {
        self.tags.remove(arn);
    }

    /// Where the custom model with this ARN or name is in [`RegionState::custom_models`].
    pub fn custom_model(&self, identifier: &str) -> Option<usize> {
        let by_arn = arn::parse(identifier).is_some();
        self.custom_models.iter().position(|m| {
            if by_arn {
                m.arn == identifier
            } else {
                m.name == identifier
            }
        })
    }
}

/// `{key, value}` — lower-case members, as the model spells them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct Guardrail {
    pub id: String,
    pub arn: String,
    pub created: SystemTime,
    pub draft: Version,
    /// Numbered versions, oldest first; deleted ones leave a gap (numbers are never reused).
    pub versions: Vec<Version>,
    pub next_version: u32,
    pub client_request_token: Option<String>,
}

/// The DRAFT or one numbered version.
#[derive(Debug, Clone)]
pub struct Version {
    /// `DRAFT` or `1`, `2`, …
    pub version: String,
    /// The read-shape members: `name`, `description`, the policies, `blockedInputMessaging`,
    /// `blockedOutputsMessaging`, `kmsKeyArn`, `crossRegionDetails`.
    pub definition: Map<String, Value>,
    pub updated: SystemTime,
}

/// A user's application inference profile.
#[derive(Debug, Clone)]
pub struct AppProfile {
    pub id: String,
    pub arn: String,
    pub name: String,
    pub description: Option<String>,
    /// The foundation-model ARNs it routes to (copied from its source).
    pub model_arns: Vec<String>,
    /// The system profile it was copied from, if any.
    pub system_profile_id: Option<String>,
    /// The catalog id of the model that answers.
    pub model_id: String,
    pub client_request_token: Option<String>,
    pub created: SystemTime,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    InProgress,
    Completed,
    Stopping,
    Stopped,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::InProgress => "InProgress",
            JobStatus::Completed => "Completed",
            JobStatus::Stopping => "Stopping",
            JobStatus::Stopped => "Stopped",
        }
    }
}

/// One customization job and everything it was created with.
#[derive(Debug, Clone)]
pub struct Job {
    pub arn: String,
    pub name: String,
    pub status: JobStatus,
    pub custom_model_name: String,
    /// Reserved at creation; the model exists once the job completes.
    pub custom_model_arn: String,
    pub custom_model_tags: Vec<Tag>,
    pub role_arn: String,
    pub client_request_token: Option<String>,
    /// The foundation model trained (the customizable variant, e.g. `…-v1:0:8k`).
    pub base_model: &'static CatalogModel,
    /// What `baseModelArn` reports: the foundation model, or the custom model customized further.
    pub base_model_arn: String,
    pub customization_type: String,
    /// The validated request members echoed by Get (`hyperParameters`, `trainingDataConfig`, …).
    pub echo: Map<String, Value>,
    pub kms_key_arn: Option<String>,
    pub created: SystemTime,
    pub last_modified: SystemTime,
    pub stop_requested: Option<SystemTime>,
    pub ended: Option<SystemTime>,
}

impl Job {
    /// Applies the passage of time; returns the custom model (and its tags) when the job completes.
    pub fn advance(&mut self, now: SystemTime, timing: Timing) -> Option<(CustomModel, Vec<Tag>)> {
        match self.status {
            JobStatus::InProgress if now >= self.created + timing.work => {
                let end = self.created + timing.work;
                self.status = JobStatus::Completed;
                self.ended = Some(end);
                self.last_modified = end;
                Some((
                    CustomModel::from_job(self, end),
                    self.custom_model_tags.clone(),
                ))
            }
            JobStatus::Stopping => {
                let stop = self.stop_requested.unwrap_or(self.created) + timing.stop_delay();
                if now >= stop {
                    self.status = JobStatus::Stopped;
                    self.ended = Some(stop);
                    self.last_modified = stop;
                }
                None
            }
            _ => None,
        }
    }

    /// `trainingMetrics`: a loss that looks like a converged run, stable for the job's name.
    pub fn training_metrics(&self) -> Value {
        json!({ "trainingLoss": self.loss(0.0) })
    }

    /// `validationMetrics`: one entry per validator.
    pub fn validation_metrics(&self) -> Value {
        let n = self.echo["validationDataConfig"]["validators"]
            .as_array()
            .map_or(0, Vec::len);
        Value::Array(
            (0..n)
                .map(|i| json!({ "validationLoss": self.loss(0.05 + 0.01 * i as f64) }))
                .collect(),
        )
    }

    fn loss(&self, offset: f64) -> f64 {
        // Stable for the job's name: plausible metrics that do not change per read.
        let jitter = (stable_hash(&[self.name.as_bytes()]) % 400) as f64 / 1000.0;
        ((0.35 + jitter + offset) * 1e4).round() / 1e4
    }
}

#[derive(Debug, Clone)]
pub struct CustomModel {
    pub arn: String,
    pub name: String,
    pub job_arn: String,
    pub job_name: String,
    /// The catalog model it was trained from (the customizable variant).
    pub base_model: &'static CatalogModel,
    /// What `baseModelArn` reports (a foundation model, or the custom model it was trained from).
    pub base_model_arn: String,
    pub customization_type: String,
    /// `hyperParameters`, `trainingDataConfig`, `validationDataConfig`, `outputDataConfig`, …
    pub echo: Map<String, Value>,
    pub training_metrics: Value,
    pub validation_metrics: Value,
    pub kms_key_arn: Option<String>,
    pub created: SystemTime,
}

impl CustomModel {
    /// The model a job produces when it completes at `at`.
    pub fn from_job(job: &Job, at: SystemTime) -> Self {
        Self {
            arn: job.custom_model_arn.clone(),
            name: job.custom_model_name.clone(),
            job_arn: job.arn.clone(),
            job_name: job.name.clone(),
            base_model: job.base_model,
            base_model_arn: job.base_model_arn.clone(),
            customization_type: job.customization_type.clone(),
            echo: job.echo.clone(),
            training_metrics: job.training_metrics(),
            validation_metrics: job.validation_metrics(),
            kms_key_arn: job.kms_key_arn.clone(),
            created: at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtStatus {
    Creating,
    InService,
    Updating,
}

impl PtStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PtStatus::Creating => "Creating",
            PtStatus::InService => "InService",
            PtStatus::Updating => "Updating",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Provisioned {
    pub id: String,
    pub arn: String,
    pub name: String,
    /// What it serves now: a foundation-model or custom-model ARN.
    pub model_arn: String,
    /// What it will serve once an update finishes.
    pub desired_model_arn: String,
    pub foundation_model_arn: String,
    pub model_units: i64,
    pub commitment: Option<String>,
    pub commitment_expiration: Option<SystemTime>,
    pub status: PtStatus,
    /// When a `Creating`/`Updating` throughput is in service.
    pub ready_at: SystemTime,
    pub client_request_token: Option<String>,
    pub created: SystemTime,
    pub last_modified: SystemTime,
}

impl Provisioned {
    pub fn advance(&mut self, now: SystemTime) {
        if self.status != PtStatus::InService && now >= self.ready_at {
            self.status = PtStatus::InService;
            self.model_arn = self.desired_model_arn.clone();
            self.last_modified = self.ready_at;
        }
    }
}
