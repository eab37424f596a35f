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
