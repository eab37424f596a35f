//! Guardrails that act: the policy evaluators and where they act.
//!
//! - [`policy`]: a stored guardrail version read into typed policies.
//! - [`text`] (words, stems, stop words), [`lexicon`] (word lists, content-filter and prompt-attack
//!   lexicons, the topic and grounding rules), [`pii`] (sensitive-information detectors): the
//!   evaluators, all deterministic and listed in README's Guardrails section.
//! - [`assess`]: one evaluation of a guardrail on texts → outcome, masked texts, assessment.
//! - [`apply`]: `ApplyGuardrail` and `InvokeGuardrailChecks`.
//! - [`guard`]: a guardrail on a model call (Converse's `guardrailConfig`, InvokeModel's headers):
//!   the input screen and the trace; [`stage`]: the output stage of the token stream and the
//!   shapers that write the verdict into each operation's events.

pub(crate) mod apply;
pub(crate) mod assess;
pub(crate) mod guard;
pub(crate) mod lexicon;
pub(crate) mod pii;
pub(crate) mod policy;
pub(crate) mod stage;
pub(crate) mod text;

pub use guard::Guard;
