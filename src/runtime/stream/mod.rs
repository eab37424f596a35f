//! What flows through every runtime operation, whatever its format: the normalized request
//! ([`request`]), the token stream a source answers it with ([`delta`]), the [`shaper`] trait that
//! turns deltas into an operation's events, the [`answer`] non-streaming operations collect, the
//! [`body`] writer that frames events for the wire, and what every answer counts and names
//! ([`tokens`], [`ids`]). Stream stages sit between a source and a shaper: [`fault`] injects a
//! rule's fault after N tokens.

pub(crate) mod answer;
pub(crate) mod body;
pub(crate) mod delta;
pub(crate) mod fault;
pub(crate) mod ids;
pub(crate) mod request;
pub(crate) mod shaper;
pub(crate) mod tokens;
