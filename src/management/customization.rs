//! Model customization jobs. A job trains for the configured time (`--bedrock-customization-seconds`)
//! and then completes with plausible metrics and a new custom model; `Stop` moves it through
//! `Stopping` to `Stopped`. Status is derived lazily from timestamps (see `state.rs`).
//!
//! ```text
//! InProgress ──(created + duration)──▶ Completed ──▶ custom model
//!     │
//!     └─Stop─▶ Stopping ──(stop + min(duration, 1 s))──▶ Stopped
//! ```

use super::catalog::{self, CatalogModel};
use super::members::{kms_key_arn, tag_list, TAG_LIST};
use super::pagination::Page;
use super::query::{contains_ignore_case, Query, TimeWindow};
use super::schema::{self, list, matching, opt, req, Rule};
use super::state::{Job, JobStatus, Timing};
use super::store::{new_id, Scope, Store};
use super::validate::{
    Checks, CUSTOM_MODEL_NAME, IDEMPOTENCY_TOKEN, JOB_NAME, KMS_KEY_ID, ROLE_ARN, S3_URI, VPC_ID,
};
use crate::aws::time::rfc3339;
use crate::aws::{arn, ApiError};
use crate::call::Call;
use serde_json::{json, Map, Value};
use std::time::SystemTime;

pub const JOB_STATUSES: &[&str] = &["InProgress", "Completed", "Failed", "Stopping", "Stopped"];
const CUSTOMIZATION_TYPES: &[&str] = &[
    "FINE_TUNING",
    "CONTINUED_PRE_TRAINING",
    "DISTILLATION",
    "REINFORCEMENT_FINE_TUNING",
    "IMPORTED",
];

impl Job {
    /// `statusDetails`: validation, then data processing, then training, over the job's duration.
    fn status_details(&self, now: SystemTime, timing: Timing) -> Value {
        let total = timing.work.as_secs_f64();
        let elapsed = match self.ended {
            Some(end) => end
                .duration_since(self.created)
                .unwrap_or_default()
                .as_secs_f64(),
            None => now
                .duration_since(self.created)
                .unwrap_or_default()
                .as_secs_f64(),
        };
        let at = |fraction: f64| self.created + timing.work.mul_f64(fraction);
        let stage = |from: f64, to: f64| {
            let (start, end) = (total * from, total * to);
            let status = if self.status == JobStatus::Completed || elapsed >= end {
                "Completed"
            } else if elapsed < start {
                "NotStarted"
            } else if self.status == JobStatus::InProgress {
                "InProgress"
            } else {
                self.status.as_str()
            };
            let mut d = json!({ "status": status });
            if status != "NotStarted" {
                d["creationTime"] = json!(rfc3339(at(from)));
                d["lastModifiedTime"] = json!(rfc3339(if status == "Completed" {
                    at(to)
                } else {
                    self.last_modified
                }));
            }
            d
        };
        json!({
            "validationDetails": stage(0.0, 0.1),
            "dataProcessingDetails": stage(0.1, 0.2),
            "trainingDetails": stage(0.2, 1.0),
        })
    }

    fn get_json(&self, now: SystemTime, timing: Timing) -> Value {
        let done = self.status == JobStatus::Completed;
        let mut out = json!({
            "jobArn": self.arn,
            "jobName": self.name,
            "outputModelName": self.custom_model_name,
            // Not in the service model, but the product page lists it; SDKs ignore it.
            "customModelName": self.custom_model_name,
            "outputModelArn": done.then_some(&self.custom_model_arn),
            "clientRequestToken": self.client_request_token,
            "roleArn": self.role_arn,
            "status": self.status.as_str(),
            "statusDetails": self.status_details(now, timing),
            "creationTime": rfc3339(self.created),
            "lastModifiedTime": rfc3339(self.last_modified),
            "endTime": self.ended.map(rfc3339),
            "baseModelArn": self.base_model_arn,
            "customizationType": self.customization_type,
            "outputModelKmsKeyArn": self.kms_key_arn,
            "trainingMetrics": done.then(|| self.training_metrics()),
            "validationMetrics": done.then(|| self.validation_metrics()),
        });
        for (k, v) in &self.echo {
            out[k] = v.clone();
        }
        out
    }

    fn summary_json(&self, now: SystemTime, timing: Timing) -> Value {
        json!({
            "jobArn": self.arn,
            "baseModelArn": self.base_model_arn,
            "jobName": self.name,
            "status": self.status.as_str(),
            "statusDetails": self.status_details(now, timing),
            "lastModifiedTime": rfc3339(self.last_modified),
            "creationTime": rfc3339(self.created),
            "endTime": self.ended.map(rfc3339),
            "customModelArn": (self.status == JobStatus::Completed).then_some(&self.custom_model_arn),
            "customModelName": self.custom_model_name,
            "customizationType": self.customization_type,
        })
    }
}

static S3_LOCATION: Rule = Rule::Obj(&[req("s3Uri", matching(1, 1024, &S3_URI))]);
static VALIDATOR: Rule = Rule::Obj(&[req("s3Uri", matching(1, 1024, &S3_URI))]);
static VPC_MEMBER: Rule = matching(0, 32, &VPC_ID);

static CREATE: Rule = Rule::Obj(&[
    req("jobName", matching(1, 63, &JOB_NAME)),
    req("customModelName", matching(1, 63, &CUSTOM_MODEL_NAME)),
    req("roleArn", matching(0, 2048, &ROLE_ARN)),
    opt("clientRequestToken", matching(1, 256, &IDEMPOTENCY_TOKEN)),
    req("baseModelIdentifier", schema::text(1, 2048)),
    opt("customizationType", Rule::Enum(CUSTOMIZATION_TYPES)),
    opt("customModelKmsKeyId", matching(1, 2048, &KMS_KEY_ID)),
    opt("jobTags", Rule::Is(&TAG_LIST)),
    opt("customModelTags", Rule::Is(&TAG_LIST)),
    req(
        "trainingDataConfig",
        Rule::Obj(&[
            opt("s3Uri", matching(1, 1024, &S3_URI)),
            opt(
                "invocationLogsConfig",
                Rule::Obj(&[
                    opt("usePromptResponse", Rule::Bool),
                    req(
                        "invocationLogSource",
                        Rule::Obj(&[opt("s3Uri", matching(1, 1024, &S3_URI))]),
                    ),
                ]),
            ),
        ]),
    ),
    opt(
        "validationDataConfig",
        Rule::Obj(&[req("validators", list(0, 10, &VALIDATOR))]),
    ),
    req("outputDataConfig", Rule::Is(&S3_LOCATION)),
    opt("hyperParameters", Rule::StrMap),
    opt(
        "vpcConfig",
        Rule::Obj(&[
            req("subnetIds", list(1, 16, &VPC_MEMBER)),
            req("securityGroupIds", list(1, 5, &VPC_MEMBER)),
        ]),
    ),
    opt(
        "customizationConfig",
        Rule::Obj(&[opt(
            "distillationConfig",
            Rule::Obj(&[req(
                "teacherModelConfig",
                Rule::Obj(&[
                    req("teacherModelIdentifier", schema::text(1, 2048)),
                    opt(
                        "maxResponseLengthForInference",
                        Rule::Int {
                            min: 1,
                            max: i64::MAX,
                        },
                    ),
                ]),
            )]),
        )]),
    ),
]);

/// What a `baseModelIdentifier` names: a foundation model (id or ARN) or one of the caller's
/// custom models (ARN or name), resolved to the catalog model that is trained.
fn base_model(
    s: &Scope<'_>,
    identifier: &str,
    customization: &str,
) -> Result<(&'static CatalogModel, String), ApiError> {
    let missing = || {
        ApiError::not_found(format!(
            "Could not resolve the base model from the provided model identifier '{identifier}'."
        ))
    };
    let (foundation, reported_arn) = match catalog::find_by_identifier(identifier) {
        Some(m) => (m, None),
        None => {
            let at = s.state.custom_model(identifier).ok_or_else(missing)?;
            let custom = &s.state.custom_models[at];
            (custom.base_model, Some(custom.arn.clone()))
        }
    };
    let variant = catalog::customizable_variant(foundation, customization).ok_or_else(|| {
        ApiError::validation(format!(
            "The base model {} does not support the customization type {customization}.",
            foundation.model_id
        ))
    })?;
    Ok((
        variant,
        reported_arn.unwrap_or_else(|| variant.arn(s.region)),
    ))
}

pub fn create(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&CREATE, &call.json()?)?;
    let training = &body["trainingDataConfig"];
    if training.get("s3Uri").is_none() && training.get("invocationLogsConfig").is_none() {
        return Err(ApiError::validation(
            "trainingDataConfig must specify either s3Uri or invocationLogsConfig.",
        ));
    }
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
    let (name, model_name) = (text("jobName"), text("customModelName"));
    let customization = body["customizationType"]
        .as_str()
        .unwrap_or("FINE_TUNING")
        .to_string();
    if customization == "DISTILLATION"
        && body["customizationConfig"]
            .get("distillationConfig")
            .is_none()
    {
        return Err(ApiError::validation(
            "A DISTILLATION job needs customizationConfig.distillationConfig.teacherModelConfig.",
        ));
    }
    let token = body["clientRequestToken"].as_str().map(str::to_string);
    store.scope(&call.ctx, |s| {
        if let Some(same) = s
            .state
            .jobs
            .iter()
            .find(|j| token.is_some() && j.client_request_token == token)
        {
            return Ok(json!({ "jobArn": same.arn }));
        }
        if s.state.jobs.iter().any(|j| j.name == name) {
            return Err(ApiError::validation(
                "The provided job name is currently in use.",
            ));
        }
        let taken = s.state.custom_models.iter().any(|m| m.name == model_name)
            || s.state.jobs.iter().any(|j| {
                j.custom_model_name == model_name && matches!(j.status, JobStatus::InProgress)
            });
        if taken {
            return Err(ApiError::validation(
                "The provided custom model name is currently in use.",
            ));
        }
        let (base_model, base_model_arn) =
            base_model(s, &text("baseModelIdentifier"), &customization)?;
        let arn = s.arn(&format!(
            "model-customization-job/{}/{}",
            base_model.model_id,
            new_id()
        ));
        let custom_model_arn = s.arn(&format!(
            "custom-model/{}/{}",
            base_model.model_id,
            new_id()
        ));
        let job_tags = tag_list(body.get("jobTags"), &arn)?;
        let custom_model_tags = tag_list(body.get("customModelTags"), &custom_model_arn)?;
        let mut echo = Map::new();
        for key in [
            "trainingDataConfig",
            "outputDataConfig",
            "hyperParameters",
            "vpcConfig",
            "customizationConfig",
        ] {
            if let Some(v) = body.get(key) {
                echo.insert(key.to_string(), v.clone());
            }
        }
        // The model requires `validationDataConfig` in Get's answer; an empty list stands for none.
        let validation = body
            .get("validationDataConfig")
            .cloned()
            .unwrap_or_else(|| json!({ "validators": [] }));
        echo.insert("validationDataConfig".into(), validation);
        echo.entry("hyperParameters").or_insert_with(|| json!({}));
        if !job_tags.is_empty() {
            s.state.tags.insert(arn.clone(), job_tags);
        }
        s.state.jobs.push(Job {
            arn: arn.clone(),
            name,
            status: JobStatus::InProgress,
            custom_model_name: model_name,
            custom_model_arn,
            custom_model_tags,
            role_arn: text("roleArn"),
            client_request_token: token,
            base_model,
            base_model_arn,
            customization_type: customization,
            echo,
            kms_key_arn: body["customModelKmsKeyId"]
                .as_str()
                .map(|k| kms_key_arn(k, s.region, s.account)),
            created: s.now,
            last_modified: s.now,
            stop_requested: None,
            ended: None,
        });
        Ok(json!({ "jobArn": arn }))
    })
}

fn find<'a>(s: &'a mut Scope<'_>, identifier: &str) -> Result<&'a mut Job, ApiError> {
    let by_arn = arn::parse(identifier).is_some();
    s.state
        .jobs
        .iter_mut()
        .find(|j| {
            if by_arn {
                j.arn == identifier
            } else {
                j.name == identifier
            }
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The model customization job {identifier} was not found."
            ))
        })
}

pub fn get(store: &Store, call: &Call) -> Result<Value, ApiError> {
    store.scope(&call.ctx, |s| {
        let (now, timing) = (s.now, s.timing);
        Ok(find(s, call.param(0))?.get_json(now, timing))
    })
}

pub fn stop(store: &Store, call: &Call) -> Result<Value, ApiError> {
    store.scope(&call.ctx, |s| {
        let now = s.now;
        let job = find(s, call.param(0))?;
        if job.status != JobStatus::InProgress {
            return Err(ApiError::validation(format!(
                "The model customization job {} cannot be stopped because its status is {}.",
                job.name,
                job.status.as_str()
            )));
        }
        job.status = JobStatus::Stopping;
        job.stop_requested = Some(now);
        job.last_modified = now;
        Ok(json!({}))
    })
}

pub fn list_jobs(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let query = Query::of(call)?;
    let mut checks = Checks::new();
    let window = TimeWindow::from_query(&query, &mut checks);
    let status = query.one_of("statusEquals", JOB_STATUSES, &mut checks);
    let name = query.text("nameContains", 1, 63, Some(&JOB_NAME), &mut checks);
    let descending = query.descending(&mut checks);
    let page = Page::from_query(&query, "ListModelCustomizationJobs", &mut checks)?;
    checks.finish()?;
    let items = store.scope(&call.ctx, |s| {
        let mut jobs: Vec<&Job> = s
            .state
            .jobs
            .iter()
            .filter(|j| window.contains(j.created))
            .filter(|j| status.as_deref().is_none_or(|st| j.status.as_str() == st))
            .filter(|j| contains_ignore_case(&j.name, name.as_deref()))
            .collect();
        jobs.sort_by_key(|j| j.created);
        if descending {
            jobs.reverse();
        }
        jobs.into_iter()
            .map(|j| j.summary_json(s.now, s.timing))
            .collect::<Vec<_>>()
    });
    let (items, next) = page.take(items);
    Ok(json!({ "modelCustomizationJobSummaries": items, "nextToken": next }))
}
