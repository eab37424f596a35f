//! Inference profiles: the system-defined cross-region ones (`us.`, `eu.`, `apac.`, `global.` + model
//! id, derived from the catalog's `crossRegionProfiles`) and the application profiles users create by
//! copying a foundation model or a system profile.
//!
//! A system profile is listed in the regions of its geo (`us.` in `us-*`, `eu.` in `eu-*`, `apac.` in
//! `ap-*`; `global.` everywhere), as the real service does; a caller in a region outside those three
//! geos (or a made-up one such as `local`) sees every profile, which keeps awsim easy to point at.

use super::catalog::{self, CatalogModel};
use super::members::{tag_list, TAG_LIST};
use super::pagination::Page;
use super::query::Query;
use super::schema::{self, matching, opt, req, Rule};
use super::state::AppProfile;
use super::store::{new_id, Scope, Store};
use super::validate::{
    Checks, IDEMPOTENCY_TOKEN, INFERENCE_PROFILE_DESCRIPTION, INFERENCE_PROFILE_NAME,
};
use crate::aws::time::rfc3339;
use crate::aws::{arn, ApiError};
use crate::call::Call;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime};

/// A cross-region inference geo and the regions its profiles route to (at most 5, as in the model).
#[derive(Debug)]
pub struct Geo {
    /// The id prefix: `us`, `eu`, `apac`, `global`.
    pub prefix: &'static str,
    /// The profile name prefix: `US`, `EU`, `APAC`, `Global`.
    pub label: &'static str,
    pub regions: &'static [&'static str],
}

pub static GEOS: &[Geo] = &[
    Geo {
        prefix: "us",
        label: "US",
        regions: &["us-east-1", "us-east-2", "us-west-2"],
    },
    Geo {
        prefix: "eu",
        label: "EU",
        regions: &["eu-central-1", "eu-west-1", "eu-west-3", "eu-north-1"],
    },
    Geo {
        prefix: "apac",
        label: "APAC",
        regions: &[
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-south-1",
            "ap-southeast-1",
            "ap-southeast-2",
        ],
    },
    Geo {
        prefix: "global",
        label: "Global",
        regions: &[
            "us-east-1",
            "us-east-2",
            "us-west-2",
            "eu-west-1",
            "ap-northeast-1",
        ],
    },
];

/// When the system profiles were published; the real ones carry fixed dates too.
const SYSTEM_PROFILE_DATE: Duration = Duration::from_secs(1_724_716_800); // 2024-08-27

pub fn geo(prefix: &str) -> Option<&'static Geo> {
    GEOS.iter().find(|g| g.prefix == prefix)
}

/// Whether profiles of `geo` are listed for a caller in `region`.
fn visible(geo: &Geo, region: &str) -> bool {
    let home = match region.split('-').next() {
        Some("us") => "us",
        Some("eu") => "eu",
        Some("ap") => "apac",
        _ => return true,
    };
    geo.prefix == "global" || geo.prefix == home
}

/// A system-defined inference profile: `{geo}.{modelId}`.
#[derive(Debug, Clone, Copy)]
pub struct SystemProfile {
    pub geo: &'static Geo,
    pub model: &'static CatalogModel,
}

impl SystemProfile {
    pub fn id(&self) -> String {
        format!("{}.{}", self.geo.prefix, self.model.model_id)
    }

    /// The foundation-model ARNs it routes to, one per region of its geo.
    pub fn model_arns(&self) -> Vec<String> {
        self.geo.regions.iter().map(|r| self.model.arn(r)).collect()
    }

    fn name(&self) -> String {
        let (label, model) = (self.geo.label, &self.model.model_name);
        // Real names: "US Anthropic Claude 3 Haiku", "US Nova Pro", "Global Claude Sonnet 4".
        match self.model.provider_name.as_str() {
            _ if self.geo.prefix == "global" => format!("{label} {model}"),
            "Amazon" => format!("{label} {model}"),
            provider => format!("{label} {provider} {model}"),
        }
    }

    fn to_json(self, region: &str, account: &str) -> Value {
        let regions = if self.geo.prefix == "global" {
            "all supported commercial AWS Regions".to_string()
        } else {
            match self.geo.regions.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => self.geo.regions.join(", "),
            }
        };
        let at = rfc3339(SystemTime::UNIX_EPOCH + SYSTEM_PROFILE_DATE);
        json!({
            "inferenceProfileName": self.name(),
            "description": format!("Routes requests to {} {} in {regions}.", self.model.provider_name, self.model.model_name),
            "createdAt": at,
            "updatedAt": at,
            "inferenceProfileArn": arn::build(region, account, &format!("inference-profile/{}", self.id())),
            "models": self.model_arns().into_iter().map(|a| json!({ "modelArn": a })).collect::<Vec<_>>(),
            "inferenceProfileId": self.id(),
            "status": "ACTIVE",
            "type": "SYSTEM_DEFINED",
        })
    }
}

/// The system profile with this id, if the catalog says it exists (any caller region).
pub fn system_profile(id: &str) -> Option<SystemProfile> {
    let (prefix, model_id) = id.split_once('.')?;
    let geo = geo(prefix)?;
    let model = catalog::find(model_id)?;
    model
        .has_profile_in(prefix)
        .then_some(SystemProfile { geo, model })
}

/// Every system profile, model by model in catalog order.
pub fn system_profiles() -> impl Iterator<Item = SystemProfile> {
    catalog::catalog().iter().flat_map(|model| {
        GEOS.iter()
            .filter(|g| model.has_profile_in(g.prefix))
            .map(move |geo| SystemProfile { geo, model })
    })
}

impl AppProfile {
    fn to_json(&self) -> Value {
        json!({
            "inferenceProfileName": self.name,
            "description": self.description,
            "createdAt": rfc3339(self.created),
            "updatedAt": rfc3339(self.created),
            "inferenceProfileArn": self.arn,
            "models": self.model_arns.iter().map(|a| json!({ "modelArn": a })).collect::<Vec<_>>(),
            "inferenceProfileId": self.id,
            "status": "ACTIVE",
            "type": "APPLICATION",
        })
    }
}

static CREATE: Rule = Rule::Obj(&[
    req(
        "inferenceProfileName",
        matching(1, 64, &INFERENCE_PROFILE_NAME),
    ),
    opt(
        "description",
        matching(1, 200, &INFERENCE_PROFILE_DESCRIPTION),
    ),
    opt("clientRequestToken", matching(1, 256, &IDEMPOTENCY_TOKEN)),
    req(
        "modelSource",
        Rule::Obj(&[req("copyFrom", schema::text(1, 2048))]),
    ),
    opt("tags", Rule::Is(&TAG_LIST)),
]);

/// Where a profile is copied from: a foundation model or a system profile, by ARN.
fn source(
    copy_from: &str,
) -> Result<(Vec<String>, Option<String>, &'static CatalogModel), ApiError> {
    let parsed = arn::parse(copy_from).ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value '{copy_from}' at 'modelSource.copyFrom' failed to satisfy constraint: Member must be the ARN of a foundation model or a system-defined inference profile"
        ))
    })?;
    let missing = || ApiError::not_found(format!("The model source {copy_from} was not found."));
    match parsed.resource_type {
        "foundation-model" => {
            let model = catalog::find(parsed.resource_id).ok_or_else(missing)?;
            Ok((vec![copy_from.to_string()], None, model))
        }
        "inference-profile" => {
            let profile = system_profile(parsed.resource_id).ok_or_else(missing)?;
            Ok((profile.model_arns(), Some(profile.id()), profile.model))
        }
        other => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{copy_from}' at 'modelSource.copyFrom' failed to satisfy constraint: Member must be the ARN of a foundation model or a system-defined inference profile, not a {other}"
        ))),
    }
}

pub fn create(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let body = schema::check_body(&CREATE, &call.json()?)?;
    let name = body["inferenceProfileName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (model_arns, system_profile_id, model) =
        source(body["modelSource"]["copyFrom"].as_str().unwrap_or_default())?;
    let token = body["clientRequestToken"].as_str().map(str::to_string);
    store.scope(&call.ctx, |s| {
        if let Some(same) = s
            .state
            .app_profiles
            .iter()
            .find(|p| token.is_some() && p.client_request_token == token)
        {
            return Ok(json!({ "inferenceProfileArn": same.arn, "status": "ACTIVE" }));
        }
        if s.state.app_profiles.iter().any(|p| p.name == name) {
            return Err(ApiError::Conflict(format!(
                "An inference profile named '{name}' already exists."
            )));
        }
        let id = new_id();
        let arn = s.arn(&format!("application-inference-profile/{id}"));
        let tags = tag_list(body.get("tags"), &arn)?;
        if !tags.is_empty() {
            s.state.tags.insert(arn.clone(), tags);
        }
        s.state.app_profiles.push(AppProfile {
            id,
            arn: arn.clone(),
            name,
            description: body["description"].as_str().map(str::to_string),
            model_arns,
            system_profile_id,
            model_id: model.model_id.clone(),
            client_request_token: token,
            created: s.now,
        });
        Ok(json!({ "inferenceProfileArn": arn, "status": "ACTIVE" }))
    })
}

/// What an identifier (id or ARN) names, as seen from the caller's region.
enum Found {
    System(SystemProfile),
    App(usize),
}

fn lookup(s: &Scope<'_>, identifier: &str) -> Result<Found, ApiError> {
    let missing =
        || ApiError::not_found(format!("The inference profile {identifier} was not found."));
    let (kind, id) = match arn::parse(identifier) {
        Some(a) => (Some(a.resource_type), a.resource_id),
        None => (None, identifier),
    };
    if kind != Some("application-inference-profile") {
        if let Some(p) = system_profile(id).filter(|p| visible(p.geo, s.region)) {
            return Ok(Found::System(p));
        }
    }
    if kind != Some("inference-profile") {
        let by = |p: &AppProfile| {
            if kind.is_some() {
                p.arn == identifier
            } else {
                p.id == id
            }
        };
        if let Some(i) = s.state.app_profiles.iter().position(by) {
            return Ok(Found::App(i));
        }
    }
    Err(missing())
}

pub fn get(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let identifier = call.param(0);
    store.scope(&call.ctx, |s| match lookup(s, identifier)? {
        Found::System(p) => Ok(p.to_json(s.region, s.account)),
        Found::App(i) => Ok(s.state.app_profiles[i].to_json()),
    })
}

pub fn delete(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let identifier = call.param(0);
    store.scope(&call.ctx, |s| match lookup(s, identifier)? {
        Found::System(p) => Err(ApiError::validation(format!(
            "The inference profile {} is system-defined and cannot be deleted; only application inference profiles can.",
            p.id()
        ))),
        Found::App(i) => {
            let removed = s.state.app_profiles.remove(i);
            s.state.forget_tags(&removed.arn);
            Ok(json!({}))
        }
    })
}

pub fn list(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let query = Query::of(call)?;
    let mut checks = Checks::new();
    // The query key is `type` (member `typeEquals`); without it the real service lists the
    // system-defined profiles only.
    let kind = query.one_of("type", &["SYSTEM_DEFINED", "APPLICATION"], &mut checks);
    let page = Page::from_query(&query, "ListInferenceProfiles", &mut checks)?;
    checks.finish()?;
    let items: Vec<Value> = store.scope(&call.ctx, |s| {
        if kind.as_deref() == Some("APPLICATION") {
            s.state
                .app_profiles
                .iter()
                .map(AppProfile::to_json)
                .collect()
        } else {
            system_profiles()
                .filter(|p| visible(p.geo, s.region))
                .map(|p| p.to_json(s.region, s.account))
                .collect()
        }
    });
    let (items, next) = page.take(items);
    Ok(json!({ "inferenceProfileSummaries": items, "nextToken": next }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_profiles_exist_only_in_the_catalogs_geos() {
        let p = system_profile("us.anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!(p.model_arns().len(), 3);
        assert!(p.model_arns()[0].starts_with("arn:aws:bedrock:us-east-1::foundation-model/"));
        assert!(system_profile("global.anthropic.claude-sonnet-4-5-20250929-v1:0").is_some());
        assert!(system_profile("global.anthropic.claude-3-haiku-20240307-v1:0").is_none());
        assert!(system_profile("xx.anthropic.claude-3-haiku-20240307-v1:0").is_none());
        assert!(system_profile("us.no.such-model").is_none());
        assert!(system_profiles().count() > 40);
    }

    #[test]
    fn names_and_visibility_follow_the_real_service() {
        let p = system_profile("us.anthropic.claude-3-haiku-20240307-v1:0").unwrap();
        assert_eq!(p.name(), "US Anthropic Claude 3 Haiku");
        assert_eq!(
            system_profile("eu.amazon.nova-pro-v1:0").unwrap().name(),
            "EU Nova Pro"
        );
        assert!(visible(p.geo, "us-west-2"));
        assert!(!visible(p.geo, "eu-west-1"));
        assert!(visible(geo("global").unwrap(), "eu-west-1"));
        assert!(visible(p.geo, "local"));
        let json = p.to_json("us-east-1", "123456789012");
        assert_eq!(
            json["inferenceProfileArn"],
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"
        );
        assert_eq!(
            json["description"],
            "Routes requests to Anthropic Claude 3 Haiku in us-east-1, us-east-2 and us-west-2."
        );
    }
}
