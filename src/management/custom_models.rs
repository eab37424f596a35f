//! Custom models: what a completed customization job leaves behind (`ListCustomModels`,
//! `GetCustomModel`, `DeleteCustomModel`). The runtime invokes one by ARN; it answers as its base model.

use super::catalog;
use super::pagination::Page;
use super::query::{contains_ignore_case, Query, TimeWindow};
use super::state::CustomModel;
use super::store::Store;
use super::validate::{Checks, CUSTOM_MODEL_NAME};
use crate::aws::time::rfc3339;
use crate::aws::ApiError;
use crate::call::Call;
use serde_json::{json, Value};

impl CustomModel {
    fn get_json(&self) -> Value {
        let mut out = json!({
            "modelArn": self.arn,
            "modelName": self.name,
            "jobName": self.job_name,
            "jobArn": self.job_arn,
            "baseModelArn": self.base_model_arn,
            "customizationType": self.customization_type,
            "modelKmsKeyArn": self.kms_key_arn,
            "trainingMetrics": self.training_metrics,
            "validationMetrics": self.validation_metrics,
            "creationTime": rfc3339(self.created),
            "modelStatus": "Active",
        });
        for (k, v) in &self.echo {
            out[k] = v.clone();
        }
        out
    }

    fn summary_json(&self, account: &str) -> Value {
        json!({
            "modelArn": self.arn,
            "modelName": self.name,
            "creationTime": rfc3339(self.created),
            "baseModelArn": self.base_model_arn,
            "baseModelName": self.base_model.model_name,
            "customizationType": self.customization_type,
            "ownerAccountId": account,
            "modelStatus": "Active",
        })
    }
}

fn not_found(identifier: &str) -> ApiError {
    ApiError::not_found(format!("The custom model {identifier} was not found."))
}

pub fn get(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let identifier = call.param(0);
    store.scope(&call.ctx, |s| {
        let i = s
            .state
            .custom_model(identifier)
            .ok_or_else(|| not_found(identifier))?;
        Ok(s.state.custom_models[i].get_json())
    })
}

pub fn delete(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let identifier = call.param(0);
    store.scope(&call.ctx, |s| {
        let i = s.state.custom_model(identifier).ok_or_else(|| not_found(identifier))?;
        let arn = s.state.custom_models[i].arn.clone();
        if let Some(pt) = s.state.provisioned.iter().find(|p| p.model_arn == arn || p.desired_model_arn == arn) {
            return Err(ApiError::Conflict(format!(
                "The custom model {arn} is used by the provisioned throughput {}; delete that first.",
                pt.name
            )));
        }
        s.state.custom_models.remove(i);
        s.state.forget_tags(&arn);
        Ok(json!({}))
    })
}

pub fn list(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let query = Query::of(call)?;
    let mut checks = Checks::new();
    let window = TimeWindow::from_query(&query, &mut checks);
    let name = query.text("nameContains", 1, 63, Some(&CUSTOM_MODEL_NAME), &mut checks);
    let base = query.text("baseModelArnEquals", 20, 1011, None, &mut checks);
    let foundation = query.text("foundationModelArnEquals", 1, 2048, None, &mut checks);
    let owned = query.bool("isOwned", &mut checks);
    let status = query.one_of(
        "modelStatus",
        &["Active", "Creating", "Failed"],
        &mut checks,
    );
    let descending = query.descending(&mut checks);
    let page = Page::from_query(&query, "ListCustomModels", &mut checks)?;
    checks.finish()?;
    // Compare foundation models by id, so an ARN naming another region still matches.
    let foundation_id = foundation
        .as_deref()
        .map(|a| catalog::find_by_identifier(a).map(|m| m.model_id.as_str()));
    let items = store.scope(&call.ctx, |s| {
        let mut models: Vec<&CustomModel> = s
            .state
            .custom_models
            .iter()
            .filter(|m| window.contains(m.created))
            .filter(|m| contains_ignore_case(&m.name, name.as_deref()))
            .filter(|m| base.as_deref().is_none_or(|b| m.base_model_arn == b))
            .filter(|m| {
                foundation_id.is_none_or(|id| {
                    id.is_some_and(|id| {
                        m.base_model.model_id == id
                            || m.base_model.base().is_some_and(|b| b.model_id == id)
                    })
                })
            })
            .filter(|_| owned != Some(false))
            .filter(|_| status.as_deref().is_none_or(|st| st == "Active"))
            .collect();
        models.sort_by_key(|m| m.created);
        if descending {
            models.reverse();
        }
        models
            .into_iter()
            .map(|m| m.summary_json(s.account))
            .collect::<Vec<_>>()
    });
    let (items, next) = page.take(items);
    Ok(json!({ "modelSummaries": items, "nextToken": next }))
}
