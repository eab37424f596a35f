//! Single-string prompts → turns. Claude Text Completions, Llama, Mistral, Cohere Command and
//! DeepSeek R1 take one `prompt`; reading the chat template back into turns lets canned answers
//! echo the last user turn (not the template markup) and lets token counts see each turn.
//!
//! Templates recognized: `\n\nHuman:` / `\n\nAssistant:` (Claude), `<|start_header_id|>role
//! <|end_header_id|>` (Llama 3), `[INST] … [/INST]` with optional `<<SYS>>` (Llama 2, Mistral) and
//! `<｜User｜>` / `<｜Assistant｜>` (DeepSeek). Anything else is one user turn.

use crate::runtime::stream::request::{ChatRequest, Message, Role};

/// The request a bare prompt stands for.
pub fn request(prompt: &str) -> ChatRequest {
    let (system, turns) = if prompt.contains(HUMAN) {
        claude(prompt)
    } else if prompt.contains("<|start_header_id|>") {
        llama3(prompt)
    } else if prompt.contains("[INST]") {
        inst(prompt)
    } else if prompt.contains("<｜User｜>") {
        deepseek(prompt)
    } else {
        (Vec::new(), vec![(Role::User, prompt.trim().to_string())])
    };
    let mut messages: Vec<Message> = turns
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(role, text)| Message::text(role, text))
        .collect();
    if messages.is_empty() {
        messages.push(Message::text(Role::User, String::new()));
    }
    ChatRequest {
        system,
        messages,
        ..Default::default()
    }
}

pub const HUMAN: &str = "\n\nHuman:";
pub const ASSISTANT: &str = "\n\nAssistant:";

type Turns = (Vec<String>, Vec<(Role, String)>);

fn claude(prompt: &str) -> Turns {
    let mut system = Vec::new();
    let mut turns = Vec::new();
    // Where each marker next occurs, searched again only once passed: a search per marker, not
    // one per turn through the rest of the prompt (which made many turns cost their square).
    let find = |marker: &str, from: usize| prompt[from..].find(marker).map(|at| from + at);
    let mut human = find(HUMAN, 0);
    let mut assistant = find(ASSISTANT, 0);
    let mut at = 0;
    let mut role = None;
    loop {
        let next = [
            (human, HUMAN, Role::User),
            (assistant, ASSISTANT, Role::Assistant),
        ]
        .into_iter()
        .filter_map(|(found, marker, r)| found.map(|found| (found, marker, r)))
        .min_by_key(|(found, _, _)| *found);
        let text = &prompt[at..next.map_or(prompt.len(), |(found, _, _)| found)];
        match role {
            None if !text.trim().is_empty() => system.push(text.trim().to_string()),
            None => {}
            Some(r) => turns.push((r, text.trim().to_string())),
        }
        let Some((found, marker, r)) = next else {
            break;
        };
        role = Some(r);
        at = found + marker.len();
        if human.is_some_and(|h| h < at) {
            human = find(HUMAN, at);
        }
        if assistant.is_some_and(|a| a < at) {
            assistant = find(ASSISTANT, at);
        }
    }
    (system, turns)
}

fn llama3(prompt: &str) -> Turns {
    let mut system = Vec::new();
    let mut turns = Vec::new();
    for part in prompt.split("<|start_header_id|>").skip(1) {
        let Some((role, text)) = part.split_once("<|end_header_id|>") else {
            continue;
        };
        let text = text
            .split("<|eot_id|>")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        match role.trim() {
            "system" => system.push(text),
            "assistant" => turns.push((Role::Assistant, text)),
            _ => turns.push((Role::User, text)),
        }
    }
    (system, turns)
}

fn inst(prompt: &str) -> Turns {
    let mut system = Vec::new();
    let mut turns = Vec::new();
    for part in prompt.split("[INST]").skip(1) {
        let (user, answer) = part.split_once("[/INST]").unwrap_or((part, ""));
        let mut user = user.to_string();
        if let Some((before, sys)) = user.split_once("<<SYS>>") {
            let (sys, after) = sys.split_once("<</SYS>>").unwrap_or((sys, ""));
            system.push(sys.trim().to_string());
            user = format!("{before}{after}");
        }
        turns.push((Role::User, user.trim().to_string()));
        let answer = answer.replace("</s>", "").replace("<s>", "");
        turns.push((Role::Assistant, answer.trim().to_string()));
    }
    (system, turns)
}

fn deepseek(prompt: &str) -> Turns {
    let mut turns = Vec::new();
    let body = prompt.replace("<｜begin▁of▁sentence｜>", "");
    let (system, rest) = body.split_once("<｜User｜>").unwrap_or(("", &body));
    for part in rest.split("<｜User｜>") {
        let (user, answer) = part.split_once("<｜Assistant｜>").unwrap_or((part, ""));
        turns.push((Role::User, user.trim().to_string()));
        let answer = answer.replace("<｜end▁of▁sentence｜>", "");
        turns.push((Role::Assistant, answer.trim().to_string()));
    }
    let system = if system.trim().is_empty() {
        Vec::new()
    } else {
        vec![system.trim().to_string()]
    };
    (system, turns)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles_and_texts(r: &ChatRequest) -> Vec<(Role, String)> {
        r.messages
            .iter()
            .map(|m| (m.role, r_text(m)))
            .collect::<Vec<_>>()
    }

    fn r_text(m: &Message) -> String {
        match &m.content[0] {
            crate::runtime::stream::request::Block::Text(t) => t.clone(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn claude_turns_and_a_leading_system_prompt() {
        let r = request(
            "Be terse.\n\nHuman: Hi there\n\nAssistant: Hello\n\nHuman: What is S3?\n\nAssistant:",
        );
        assert_eq!(r.system, ["Be terse."]);
        assert_eq!(
            roles_and_texts(&r),
            [
                (Role::User, "Hi there".into()),
                (Role::Assistant, "Hello".into()),
                (Role::User, "What is S3?".into()),
            ]
        );
        assert_eq!(r.last_user_text(), "What is S3?");
        // Many turns of one kind: each marker is found once, however far the other one is.
        let many = format!("{}\n\nAssistant: done", "\n\nHuman: hi".repeat(20_000));
        let r = request(&many);
        assert_eq!(r.messages.len(), 20_001);
        assert_eq!(
            roles_and_texts(&r)[20_000],
            (Role::Assistant, "done".into())
        );
    }

    #[test]
    fn llama3_headers() {
        let r = request("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nWhat is AWS?<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
        assert_eq!(r.system, ["sys"]);
        assert_eq!(r.last_user_text(), "What is AWS?");
        assert_eq!(r.messages.len(), 1);
    }

    #[test]
    fn inst_blocks_with_a_system_section() {
        let r = request("<s>[INST] <<SYS>>\nbe nice\n<</SYS>>\n\nfirst [/INST] answer </s><s>[INST] second question [/INST]");
        assert_eq!(r.system, ["be nice"]);
        assert_eq!(r.last_user_text(), "second question");
        assert_eq!(r.messages.len(), 3);
    }

    #[test]
    fn deepseek_markers_and_plain_prompts() {
        let r = request(
            "<｜begin▁of▁sentence｜><｜User｜>Why is the sky blue?<｜Assistant｜><think>\n",
        );
        assert_eq!(r.last_user_text(), "Why is the sky blue?");
        let r = request("  Tell me a joke ");
        assert_eq!(r.last_user_text(), "Tell me a joke");
        assert_eq!(request("").messages.len(), 1);
    }
}
