//! Guardrails: a mutable `DRAFT` plus immutable numbered versions (snapshots of the draft taken by
//! `CreateGuardrailVersion`, `POST /guardrails/{id}`). Every guardrail is `READY` at once; the policies
//! are stored in the read shape `GetGuardrail` returns (see `guardrail_policies.rs`).

use super::guardrail_policies::{self, CREATE, CREATE_VERSION, POLICIES, UPDATE};
use super::members::{kms_key_arn, tag_list};
use super::pagination::Page;
use super::query::Query;
use super::schema;
use super::state::{Guardrail, Version};
use super::store::{new_id, seeded_id, Scope, Store};
use super::validate::Checks;
use crate::aws::time::rfc3339;
use crate::aws::{arn, ApiError};
use crate::call::Call;
use serde_json::{json, Map, Value};

impl Guardrail {
    fn version(&self, version: &str) -> Option<&Version> {
        if version == "DRAFT" {
            Some(&self.draft)
        } else {
            self.versions.iter().find(|v| v.version == version)
        }
    }

    fn name(&self) -> &str {
        self.draft.definition["name"].as_str().unwrap_or_default()
    }

    /// `GetGuardrail` for one version.
    pub fn get_json(&self, v: &Version) -> Value {
        let mut out = json!({
            "guardrailId": self.id,
            "guardrailArn": self.arn,
            "version": v.version,
            "status": "READY",
            "createdAt": rfc3339(self.created),
            "updatedAt": rfc3339(v.updated),
        });
        for (k, val) in &v.definition {
            out[k] = val.clone();
        }
        out
    }

    fn summary_json(&self, v: &Version) -> Value {
        let d = &v.definition;
        json!({
            "id": self.id,
            "arn": self.arn,
            "status": "READY",
            "name": d["name"],
            "description": d.get("description"),
            "version": v.version,
            "createdAt": rfc3339(self.created),
            "updatedAt": rfc3339(v.updated),
            "crossRegionDetails": d.get("crossRegionDetails"),
        })
    }
}

/// A checked create/update body → the stored definition (read shape).
fn to_definition(mut read: Value, s: &Scope<'_>) -> Result<Map<String, Value>, ApiError> {
    guardrail_policies::finish(&mut read)?;
    let mut out = Map::new();
    for key in ["name", "description"]
        .iter()
        .chain(POLICIES)
        .chain(&["blockedInputMessaging", "blockedOutputsMessaging"])
    {
        if let Some(v) = read.get(*key) {
            out.insert((*key).to_string(), v.clone());
        }
    }
    if let Some(key) = read["kmsKeyId"].as_str() {
        out.insert(
            "kmsKeyArn".into(),
            Value::from(kms_key_arn(key, s.region, s.account)),
        );
    }
    if let Some(profile) = read["crossRegionConfig"]["guardrailProfileIdentifier"].as_str() {
        let id = profile.rsplit('/').next().unwrap_or(profile);
        out.insert(
            "crossRegionDetails".into(),
            json!({
                "guardrailProfileId": id,
                "guardrailProfileArn": s.arn(&format!("guardrail-profile/{id}")),
            }),
        );
    }
    Ok(out)
}

/// Checks an identifier's shape (`[a-z0-9]+` or a guardrail ARN), then finds the guardrail.
fn position(s: &Scope<'_>, identifier: &str) -> Result<usize, ApiError> {
    let by_arn = identifier.starts_with("arn:");
    let id = if by_arn {
        match arn::parse(identifier) {
            Some(a) if a.resource_type == "guardrail" => a.resource_id,
            _ => "",
        }
    } else {
        identifier
    };
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        let mut checks = Checks::new();
        checks.fail(
            "guardrailIdentifier",
            Some(identifier),
            "Member must satisfy regular expression pattern: (([a-z0-9]+)|(arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+))",
        );
        checks.finish()?;
    }
    s.state
        .guardrails
        .iter()
        .position(|g| {
            if by_arn {
                g.arn == identifier
            } else {
                g.id == id
            }
        })
        .ok_or_else(|| ApiError::not_found(format!("The guardrail {identifier} was not found.")))
}

fn check_name_free(s: &Scope<'_>, name: &str, except: Option<usize>) -> Result<(), ApiError> {
    let taken = s
        .state
        .guardrails
        .iter()
        .enumerate()
        .any(|(i, g)| Some(i) != except && g.name() == name);
    if taken {
        return Err(ApiError::Conflict(format!(
            "A guardrail named '{name}' already exists."
        )));
    }
    Ok(())
}

/// `guardrailVersion` in a query: `DRAFT` (where allowed) or `1`..`99999999`.
fn version_param(query: &Query, draft_allowed: bool) -> Result<Option<String>, ApiError> {
    let Some(v) = query.get("guardrailVersion") else {
        return Ok(None);
    };
    let numeric = !v.is_empty()
        && v.len() <= 8
        && !v.starts_with('0')
        && v.bytes().all(|b| b.is_ascii_digit());
    if numeric || (draft_allowed && v == "DRAFT") {
        return Ok(Some(v.to_string()));
    }
    let mut checks = Checks::new();
    let pattern = if draft_allowed {
        "(([1-9][0-9]{0,7})|(DRAFT))"
    } else {
        "[1-9][0-9]{0,7}"
    };
    checks.fail(
        "guardrailVersion",
        Some(v),
        format!("Member must satisfy regular expression pattern: {pattern}"),
    );
    checks.finish().map(|()| None)
}

pub fn create(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let read = schema::check_body(&CREATE, &call.json()?)?;
    let token = read["clientRequestToken"].as_str().map(str::to_string);
    store.scope(&call.ctx, |s| {
        if let Some(g) = s.state.guardrails.iter().find(|g| token.is_some() && g.client_request_token == token) {
            return Ok(json!({ "guardrailId": g.id, "guardrailArn": g.arn, "version": "DRAFT", "createdAt": rfc3339(g.created) }));
        }
        let tags_value = read.get("tags").cloned();
        let definition = to_definition(read, s)?;
        let name = definition["name"].as_str().unwrap_or_default();
        check_name_free(s, name, None)?;
        let id = if s.deterministic {
            seeded_id(&[s.region.as_bytes(), s.account.as_bytes(), name.as_bytes()])
        } else {
            new_id()
        };
        let arn = s.arn(&format!("guardrail/{id}"));
        let tags = tag_list(tags_value.as_ref(), &arn)?;
        if !tags.is_empty() {
            s.state.tags.insert(arn.clone(), tags);
        }
        s.state.guardrails.push(Guardrail {
            id: id.clone(),
            arn: arn.clone(),
            created: s.now,
            draft: Version {
                version: "DRAFT".into(),
                definition,
                updated: s.now,
            },
            versions: Vec::new(),
            next_version: 1,
            client_request_token: token,
        });
        Ok(json!({ "guardrailId": id, "guardrailArn": arn, "version": "DRAFT", "createdAt": rfc3339(s.now) }))
    })
}

pub fn get(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let version = version_param(&Query::of(call)?, true)?.unwrap_or_else(|| "DRAFT".into());
    store.scope(&call.ctx, |s| {
        let g = &s.state.guardrails[position(s, call.param(0))?];
        let v = g.version(&version).ok_or_else(|| {
            ApiError::not_found(format!(
                "Version {version} of the guardrail {} was not found.",
                g.id
            ))
        })?;
        Ok(g.get_json(v))
    })
}

pub fn update(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let read = schema::check_body(&UPDATE, &call.json()?)?;
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        let definition = to_definition(read, s)?;
        check_name_free(s, definition["name"].as_str().unwrap_or_default(), Some(i))?;
        let now = s.now;
        let g = &mut s.state.guardrails[i];
        g.draft = Version {
            version: "DRAFT".into(),
            definition,
            updated: now,
        };
        Ok(json!({ "guardrailId": g.id, "guardrailArn": g.arn, "version": "DRAFT", "updatedAt": rfc3339(now) }))
    })
}

pub fn create_version(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let read = schema::check_body(&CREATE_VERSION, &call.json()?)?;
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        let now = s.now;
        let g = &mut s.state.guardrails[i];
        let mut definition = g.draft.definition.clone();
        if let Some(d) = read.get("description") {
            definition.insert("description".into(), d.clone());
        }
        let version = g.next_version.to_string();
        g.next_version += 1;
        g.versions.push(Version {
            version: version.clone(),
            definition,
            updated: now,
        });
        Ok(json!({ "guardrailId": g.id, "version": version }))
    })
}

pub fn delete(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let version = version_param(&Query::of(call)?, false)?;
    store.scope(&call.ctx, |s| {
        let i = position(s, call.param(0))?;
        match version {
            None => {
                let removed = s.state.guardrails.remove(i);
                s.state.forget_tags(&removed.arn);
            }
            Some(v) => {
                let g = &mut s.state.guardrails[i];
                let before = g.versions.len();
                g.versions.retain(|x| x.version != v);
                if g.versions.len() == before {
                    return Err(ApiError::not_found(format!(
                        "Version {v} of the guardrail {} was not found.",
                        g.id
                    )));
                }
            }
        }
        Ok(json!({}))
    })
}

pub fn list(store: &Store, call: &Call) -> Result<Value, ApiError> {
    let query = Query::of(call)?;
    let mut checks = Checks::new();
    let page = Page::from_query(&query, "ListGuardrails", &mut checks)?;
    checks.finish()?;
    let items = store.scope(&call.ctx, |s| -> Result<Vec<Value>, ApiError> {
        match query.get("guardrailIdentifier") {
            // Every version of one guardrail: DRAFT first, then 1..n.
            Some(identifier) => {
                let g = &s.state.guardrails[position(s, identifier)?];
                Ok(std::iter::once(&g.draft)
                    .chain(&g.versions)
                    .map(|v| g.summary_json(v))
                    .collect())
            }
            None => Ok(s
                .state
                .guardrails
                .iter()
                .map(|g| g.summary_json(&g.draft))
                .collect()),
        }
    })?;
    let (items, next) = page.take(items);
    Ok(json!({ "guardrails": items, "nextToken": next }))
}

impl Store {
    /// A guardrail version in `GetGuardrail`'s shape (for the runtime's guardrail support):
    /// `identifier` is an id or ARN, `version` `DRAFT` or a number.
    pub fn guardrail(
        &self,
        region: &str,
        account: &str,
        identifier: &str,
        version: &str,
    ) -> Result<Value, ApiError> {
        self.scope_in(region, account, |s| {
            let g = &s.state.guardrails[position(s, identifier)?];
            g.version(version).map(|v| g.get_json(v)).ok_or_else(|| {
                ApiError::not_found(format!(
                    "Version {version} of the guardrail {identifier} was not found."
                ))
            })
        })
    }
}
