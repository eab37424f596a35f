//! Provisioned throughput: `Creating` → `InService` after the simulated work time, `Updating` again when
//! its model changes. Its ARN is invocable at runtime like the model it provisions.

use super::catalog::{self, CatalogModel};
use super::members::{tag_list, TAG_LIST};
use super::pagination::Page;
use super::query::{contains_ignore_case, Query, TimeWindow};
use super::schema::{self, matching, opt, req, Rule};
use super::state::{Provisioned, PtStatus};
use super::store::{new_id, Scope, Store};
use super::validate::{Checks, IDEMPOTENCY_TOKEN, PROVISIONED_MODEL_NAME};
use crate::aws::time::rfc3339;
use crate::aws::{arn, ApiError};
use crate::call::Call;
use serde_json::{json, Value};
use std::time::Duration;

const STATUSES: &[&str] = &["Creating", "InService", "Updating", "Failed"];
const COMMITMENTS: &[&str] = &["OneMonth", "SixMonths"];

impl Provisioned {
    fn to_json(&self) -> Value {
        json!({
            "modelUnits": self.model_units,
            "desiredModelUnits": self.model_units,
            "provisionedModelName": self.name,
            "provisionedModelArn": self.arn,
            "modelArn": self.model_arn,
            "desiredModelArn": self.desired_model_arn,
            "foundationModelArn": self.foundation_model_arn,
            "status": self.status.as_str(),
            "creationTime": rfc3339(self.created),
            "lastModifiedTime": rfc3339(self.last_modified),
            "commitmentDuration": self.commitment,
            "commitmentExpirationTime": self.commitment_expiration.map(rfc3339),
        })
    }
}

static CREATE: Rule = Rule::Obj(&[
    opt("clientRequestToken", matching(1, 256, &IDEMPOTENCY_TOKEN)),
    req(
        "modelUnits",
        Rule::Int {
            min: 1,
            max: i32::MAX as i64,
        },
    ),
    req(
        "provisionedModelName",
        matching(1, 63, &PROVISIONED_MODEL_NAME),
    ),
    req("modelId", schema::text(1, 2048)),
    opt("commitmentDuration", Rule::Enum(COMMITMENTS)),
    opt("tags", Rule::Is(&TAG_LIST)),
]);

static UPDATE: Rule = Rule::Obj(&[
    opt(
        "desiredProvisionedModelName",
        matching(1, 63, &PROVISIONED_MODEL_NAME),
    ),
    opt("desiredModelId", schema::text(1, 2048)),
]);

/// A model to provision → (its ARN, the foundation-model ARN underneath).
fn model(s: &Scope<'_>, identifier: &str) -> Result<(String, String), ApiError> {
    if let Some(m) = catalog::find_by_identifier(identifier) {
        return provisionable(m).map(|()| (m.arn(s.region), m.arn(s.region)));
    }
    match s.state.custom_model(identifier) {
        Some(i) => {
            let custom = &s.state.custom_models[i];
            Ok((custom.arn.clone(), custom.base_model.arn(s.region)))
        }
        None => Err(ApiError::not_found(format!(
            "The model {identifier} was not found: provision a foundation model id or ARN, or a custom model ARN or name."
        ))),
    }
}

fn provisionable(m: &'static CatalogModel) -> Result<(), ApiError> {
    if catalog::provisionable(m) {
        Ok(())
    } else {
        Err(ApiError::validation(format!(
            "Provisioned Throughput is not supported for the model {}.",
            m.model_id
        )))
    }
}

pub fn create(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&CREATE, &call.json()?)?;
    let name = body["provisionedModelName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let token = body["clientRequestToken"].as_str().map(str::to_string);
    let commitment = body["commitmentDuration"].as_str().map(str::to_string);
    store.scope(&call.ctx, |s| {
        if let Some(same) = s
            .state
            .provisioned
            .iter()
            .find(|p| token.is_some() && p.client_request_token == token)
        {
            return Ok(json!({ "provisionedModelArn": same.arn }));
        }
        if s.state.provisioned.iter().any(|p| p.name == name) {
            return Err(ApiError::validation(format!(
                "A provisioned throughput named '{name}' already exists."
            )));
        }
        let (model_arn, foundation_model_arn) =
            model(s, body["modelId"].as_str().unwrap_or_default())?;
        let id = new_id();
        let arn = s.arn(&format!("provisioned-model/{id}"));
        let tags = tag_list(body.get("tags"), &arn)?;
        if !tags.is_empty() {
            s.state.tags.insert(arn.clone(), tags);
        }
        let term = match commitment.as_deref() {
            Some("OneMonth") => Some(Duration::from_secs(30 * 86_400)),
            Some(_) => Some(Duration::from_secs(182 * 86_400)),
            None => None,
        };
        s.state.provisioned.push(Provisioned {
            id,
            arn: arn.clone(),
            name,
            model_arn: model_arn.clone(),
            desired_model_arn: model_arn,
            foundation_model_arn,
            model_units: body["modelUnits"].as_i64().unwrap_or(1),
            commitment_expiration: term.map(|t| s.now + t),
            commitment,
            status: PtStatus::Creating,
            ready_at: s.now + s.timing.work,
            client_request_token: token,
            created: s.now,
            last_modified: s.now,
        });
        Ok(json!({ "provisionedModelArn": arn }))
    })
}

/// A provisioned throughput by name or ARN.
fn position(s: &Scope<'_>, identifier: &str) -> Result<usize, ApiError> {
    let by_arn = arn::parse(identifier).is_some();
    s.state
        .provisioned
        .iter()
        .position(|p| {
            if by_arn {
                p.arn == identifier
            } else {
                p.name == identifier
            }
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "The provisioned throughput {identifier} was not found."
            ))
        })
}

pub fn get(store: &Store, call: &Call) -> Result<Value, ApiError> {
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        Ok(s.state.provisioned[i].to_json())
    })
}

pub fn update(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&UPDATE, &call.json()?)?;
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        if let Some(name) = body["desiredProvisionedModelName"].as_str() {
            if s.state
                .provisioned
                .iter()
                .enumerate()
                .any(|(j, p)| j != i && p.name == name)
            {
                return Err(ApiError::validation(format!(
                    "A provisioned throughput named '{name}' already exists."
                )));
            }
        }
        let desired = match body["desiredModelId"].as_str() {
            Some(id) => Some(model(s, id)?.0),
            None => None,
        };
        let (now, work) = (s.now, s.timing.work);
        let pt = &mut s.state.provisioned[i];
        if let Some(name) = body["desiredProvisionedModelName"].as_str() {
            pt.name = name.to_string();
        }
        if let Some(desired) = desired.filter(|d| *d != pt.model_arn) {
            pt.desired_model_arn = desired;
            pt.status = PtStatus::Updating;
            pt.ready_at = now + work;
        }
        pt.last_modified = now;
        Ok(json!({}))
    })
}

pub fn delete(store: &Store, call: &Call) -> Result<Value, ApiError> {
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        let removed = s.state.provisioned.remove(i);
        s.state.forget_tags(&removed.arn);
        Ok(json!({}))
    })
}

pub fn list(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let query = Query::of(call)?;
    let mut checks = Checks::new();
    let window = TimeWindow::from_query(&query, &mut checks);
    let status = query.one_of("statusEquals", STATUSES, &mut checks);
    let model = query.text("modelArnEquals", 20, 1011, None, &mut checks);
    let name = query.text(
        "nameContains",
        1,
        63,
        Some(&PROVISIONED_MODEL_NAME),
        &mut checks,
    );
    let descending = query.descending(&mut checks);
    let page = Page::from_query(&query, "ListProvisionedModelThroughputs", &mut checks)?;
    checks.finish()?;
    let items = store.scope(&call.ctx, |s| {
        let mut pts: Vec<&Provisioned> = s
            .state
            .provisioned
            .iter()
            .filter(|p| window.contains(p.created))
            .filter(|p| status.as_deref().is_none_or(|st| p.status.as_str() == st))
            .filter(|p| model.as_deref().is_none_or(|m| p.model_arn == m))
            .filter(|p| contains_ignore_case(&p.name, name.as_deref()))
            .collect();
        pts.sort_by_key(|p| p.created);
        if descending {
            pts.reverse();
        }
        pts.into_iter()
            .map(Provisioned::to_json)
            .collect::<Vec<_>>()
    });
    let (items, next) = page.take(items);
    Ok(json!({ "provisionedModelSummaries": items, "nextToken": next }))
}
