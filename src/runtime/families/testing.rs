//! What the families' unit tests share: a model to translate for, a body parsed by a family, and a
//! shaper driven through a list of deltas, so each test states only the family's behaviour.

use super::Family;
use crate::aws::ApiError;
use crate::model_ref::ModelRef;
use crate::runtime::stream::delta::{Delta, Stop, StopReason, Usage};
use crate::runtime::stream::request::ChatRequest;
use crate::runtime::stream::shaper::{Event, Shaper, Timing};
use serde_json::Value;

/// The model `id`: the families read only the id.
pub(crate) fn model(id: &str) -> ModelRef {
    ModelRef::of_id(id)
}

/// `family`'s reading of the JSON object `body`, sent to the model `model_id`.
pub(crate) fn parse_body(
    family: &dyn Family,
    model_id: &str,
    body: Value,
) -> Result<ChatRequest, ApiError> {
    family.parse(body.as_object().unwrap(), &model(model_id))
}

/// The events `shaper` writes for `deltas`, with latencies of zero.
pub(crate) fn events<S: Shaper + ?Sized>(
    shaper: &mut S,
    deltas: impl IntoIterator<Item = Delta>,
) -> Vec<Event> {
    let mut out = Vec::new();
    for d in deltas {
        shaper.on_delta(&d, &Timing::default(), &mut out);
    }
    out
}

/// The payloads of the events `shaper` writes for `deltas`, as JSON.
pub(crate) fn shape<S: Shaper + ?Sized>(
    shaper: &mut S,
    deltas: impl IntoIterator<Item = Delta>,
) -> Vec<Value> {
    events(shaper, deltas)
        .iter()
        .map(|e| serde_json::from_slice(&e.payload).unwrap())
        .collect()
}

/// The answer's end, for `reason`, with its token counts.
pub(crate) fn stop(reason: StopReason, input_tokens: u32, output_tokens: u32) -> Delta {
    Delta::Stop(Stop {
        reason,
        usage: Usage {
            input_tokens,
            output_tokens,
        },
    })
}
