//! A stream stage: a fault injected after N output tokens, into any source's stream (canned,
//! scripted or a backend's) — in the same pull chain, so a stall holds the upstream read and a
//! client that leaves during one drops the whole chain.

use super::delta::{Delta, TokenStream};
use crate::aws::abort::Abort;
use crate::aws::ApiError;
use futures::StreamExt;
use std::time::Duration;

/// What happens once the tokens have gone by.
#[derive(Debug)]
pub enum MidStream {
    /// The stream ends with this error: an exception frame (or the JSON array's last element).
    Fail(ApiError),
    /// Nothing is sent for this long (`None`: until the client leaves), then the stream goes on.
    Stall(Option<Duration>),
    /// The response is cut off: a reset HTTP/2 stream, an HTTP/1.1 connection reset.
    Disconnect(Abort),
}

/// Passes `stream` through until `after` output tokens (text, reasoning and tool-input deltas)
/// have gone by, then does `what`. An answer shorter than that gets `what` before its stop: the
/// fault always happens once the stream has begun.
pub fn inject(stream: TokenStream, after: u32, what: MidStream) -> TokenStream {
    Box::pin(async_stream::stream! {
        let mut stream = stream;
        let mut what = Some(what);
        let mut seen: u32 = 0;
        let mut started = false;
        let mut next = None;
        loop {
            let due = started && seen >= after && what.is_some();
            if next.is_none() && !due {
                match stream.next().await {
                    Some(item) => next = Some(item),
                    None => return,
                }
            }
            // Due, or the answer stops before its Nth token: the fault comes now.
            let stops = matches!(next, Some(Ok(Delta::Stop(_))));
            if started && (due || stops) {
                match what.take() {
                    Some(MidStream::Fail(err)) => {
                        yield Err(err);
                        return;
                    }
                    Some(MidStream::Disconnect(abort)) => {
                        // One turn of the event loop first, so that hyper writes out the tokens
                        // that went before: a cut comes after them, not instead of them.
                        tokio::task::yield_now().await;
                        abort.fire();
                        return;
                    }
                    Some(MidStream::Stall(None)) => futures::future::pending::<()>().await,
                    Some(MidStream::Stall(Some(pause))) => tokio::time::sleep(pause).await,
                    None => {}
                }
            }
            let Some(item) = next.take() else { continue };
            if matches!(item, Ok(Delta::Text(_) | Delta::Reasoning(_) | Delta::ToolInput(_))) {
                seen = seen.saturating_add(1);
            }
            started = true;
            let failed = item.is_err();
            yield item;
            if failed {
                return;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::stream::delta::{Stop, StopReason, Usage};

    fn answer(words: usize) -> TokenStream {
        let mut d = vec![Delta::Start { input_tokens: 1 }];
        d.extend((0..words).map(|i| Delta::Text(format!("w{i}").into())));
        d.push(Delta::Stop(Stop {
            reason: StopReason::EndTurn,
            usage: Usage::default(),
        }));
        Box::pin(futures::stream::iter(d.into_iter().map(Ok)))
    }

    fn run(stream: TokenStream) -> Vec<Result<Delta, ApiError>> {
        futures::executor::block_on(stream.collect())
    }

    #[test]
    fn an_error_follows_the_nth_token() {
        let err = ApiError::Throttling("slow down".into());
        let out = run(inject(answer(10), 3, MidStream::Fail(err.clone())));
        assert_eq!(out.len(), 5, "start, three tokens, the error: {out:?}");
        assert!(matches!(out[3], Ok(Delta::Text(ref t)) if t.as_str() == "w2"));
        assert_eq!(out[4], Err(err));
    }

    #[test]
    fn zero_tokens_fails_right_after_the_start_and_a_short_answer_before_its_stop() {
        let err = ApiError::InternalServer("x".into());
        let out = run(inject(answer(5), 0, MidStream::Fail(err.clone())));
        assert_eq!(
            out,
            vec![Ok(Delta::Start { input_tokens: 1 }), Err(err.clone())]
        );
        let out = run(inject(answer(2), 40, MidStream::Fail(err.clone())));
        assert_eq!(out.len(), 4);
        assert_eq!(out[3], Err(err));
    }

    #[test]
    fn a_disconnect_fires_the_abort_and_ends_the_stream() {
        let abort = Abort::new(None);
        let out = run(inject(answer(10), 2, MidStream::Disconnect(abort.clone())));
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(Result::is_ok));
    }

    #[tokio::test(start_paused = true)]
    async fn a_timed_stall_pauses_then_the_answer_goes_on() {
        let out: Vec<_> = inject(
            answer(4),
            2,
            MidStream::Stall(Some(Duration::from_secs(30))),
        )
        .collect()
        .await;
        assert_eq!(out.len(), 6);
        assert!(out.iter().all(Result::is_ok));
    }
}
