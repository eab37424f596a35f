//! Guardrails that act: the policy evaluators and where they act.
//!
//! - [`policy`]: a stored guardrail version read into typed policies.
//! - [`text`] (words, stems, stop words), [`lexicon`] (word lists, content-filter and prompt-attack
//!   lexicons, the topic and grounding rules), [`pii`] (sensitive-information detectors): the
//!   evaluators, all deterministic and listed in README's Guardrails section.
//! - [`assess`]: one evaluation of a guardrail on texts → outcome, masked texts, assessment.
//! - [`apply`]: `ApplyGuardrail` and `InvokeGuardrailChecks`.

pub(crate) mod apply;
pub(crate) mod assess;
pub(crate) mod lexicon;
pub(crate) mod pii;
pub(crate) mod policy;
pub(crate) mod text;
