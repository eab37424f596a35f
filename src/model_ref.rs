//! The model a runtime request names, once resolved: the control plane resolves ids into it
//! (`Store::resolve_model`), the runtime answers with it. It stands below both, so neither imports
//! the other for it.

/// The foundation model that answers a request, and how the request named it.
#[derive(Debug, Clone)]
pub struct ModelRef {
    /// The catalog id of the foundation model that answers.
    pub id: String,
    /// Its display name (canned answers name it).
    pub name: String,
    /// Every id met while resolving, the one sent first (for the backend model map).
    pub via: Vec<String>,
}

impl ModelRef {
    /// A model known by its id alone, as sent: named by it, resolved through nothing else.
    pub fn of_id(id: &str) -> Self {
        Self {
            id: id.to_string(),
            name: id.to_string(),
            via: vec![id.to_string()],
        }
    }
}
