//! OpenAI-style `messages` / `tools` / `tool_choice`, shared by the chat-completion bodies (AI21
//! Jamba, DeepSeek, OpenAI gpt-oss …) and Mistral's chat API: system/user/assistant/tool roles,
//! string or part-list content, `tool_calls` with string `arguments`, `tool_call_id` replies.

use super::fields::{is_base64, kind, Fields};
use super::rules::schema;
use crate::aws::ApiError;
use crate::runtime::stream::request::{
    Block, ChatRequest, Message, Role, Tool, ToolChoice, ToolResultContent,
};
use serde_json::{json, Value};

/// Reads `messages` into `req` (system turns into `req.system`, tool replies into user turns).
pub fn read_messages(f: &Fields<'_>, req: &mut ChatRequest) -> Result<(), ApiError> {
    let messages = f.req_array("messages")?;
    if messages.is_empty() {
        return Err(schema(
            "messages",
            "expected minimum item count: 1, found: 0",
        ));
    }
    for (i, m) in messages.iter().enumerate() {
        let m = f.item("messages", i, m)?;
        let role = m.req_str("role")?;
        match role {
            "system" | "developer" => req.system.push(text_of(&m)?),
            "user" => {
                let content = content(&m)?;
                req.messages.push(Message {
                    role: Role::User,
                    content,
                });
            }
            "assistant" => {
                let mut content = content(&m)?;
                for (j, call) in m.array("tool_calls")?.into_iter().flatten().enumerate() {
                    let call = m.item("tool_calls", j, call)?;
                    let function = call
                        .object("function")?
                        .ok_or_else(|| call.missing("function"))?;
                    let input = match function.get("arguments") {
                        Some(Value::String(s)) => {
                            serde_json::from_str(s).unwrap_or_else(|_| json!({}))
                        }
                        Some(v @ Value::Object(_)) => v.clone(),
                        _ => json!({}),
                    };
                    content.push(Block::ToolUse {
                        id: call.str("id")?.unwrap_or_default().to_string(),
                        name: function.req_str("name")?.to_string(),
                        input,
                    });
                }
                req.messages.push(Message {
                    role: Role::Assistant,
                    content,
                });
            }
            "tool" | "ipython" => {
                let result = Block::ToolResult {
                    id: m.str("tool_call_id")?.unwrap_or_default().to_string(),
                    content: vec![ToolResultContent::Text(text_of(&m)?)],
                    is_error: false,
                };
                // Consecutive tool replies answer one assistant turn: keep them in one user turn.
                match req.messages.last_mut() {
                    Some(last)
                        if last.role == Role::User
                            && last
                                .content
                                .iter()
                                .all(|b| matches!(b, Block::ToolResult { .. })) =>
                    {
                        last.content.push(result);
                    }
                    _ => req.messages.push(Message {
                        role: Role::User,
                        content: vec![result],
                    }),
                }
            }
            other => {
                return Err(schema(
                    &m.path_of("role"),
                    &format!("{other} is not a valid enum value"),
                ))
            }
        }
    }
    if !req.messages.iter().any(|m| m.role == Role::User) {
        return Err(ApiError::validation(
            "messages: the conversation needs at least one user message",
        ));
    }
    Ok(())
}

/// The text of a message whose content is a string or a list of text parts.
fn text_of(m: &Fields<'_>) -> Result<String, ApiError> {
    Ok(content(m)?
        .into_iter()
        .filter_map(|b| match b {
            Block::Text(t) => Some(t),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

fn content(m: &Fields<'_>) -> Result<Vec<Block>, ApiError> {
    match m.get("content") {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![Block::Text(s.clone())]),
        Some(Value::Array(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (i, part) in parts.iter().enumerate() {
                let p = m.item("content", i, part)?;
                match p.req_str("type")? {
                    "text" => out.push(Block::Text(p.req_str("text")?.to_string())),
                    "image_url" => {
                        let url = match p.get("image_url") {
                            Some(Value::String(s)) => s.as_str(),
                            _ => p
                                .object("image_url")?
                                .ok_or_else(|| p.missing("image_url"))?
                                .req_str("url")?,
                        };
                        out.push(data_url_image(url).ok_or_else(|| {
                            schema(
                                &p.path_of("image_url"),
                                "a data URL must hold base64 data (data:image/png;base64,…)",
                            )
                        })?);
                    }
                    other => {
                        return Err(schema(
                            &p.path_of("type"),
                            &format!("{other} is not a valid enum value"),
                        ))
                    }
                }
            }
            Ok(out)
        }
        Some(other) => Err(schema(
            &m.path_of("content"),
            &format!("expected type: String or JSONArray, found: {}", kind(other)),
        )),
    }
}

/// `data:image/png;base64,…` → an image block (remote URLs keep the URL as data: awsim fetches
/// nothing); `None` for a data URL that does not hold base64.
fn data_url_image(url: &str) -> Option<Block> {
    let (format, data) = match url.strip_prefix("data:") {
        Some(rest) => {
            let (media, data) = rest.split_once(";base64,")?;
            if !is_base64(data) {
                return None;
            }
            (media.strip_prefix("image/").unwrap_or("png"), data)
        }
        None => ("png", url),
    };
    Some(Block::Image {
        format: format.to_string(),
        data: data.to_string(),
    })
}

/// `tools: [{"type":"function","function":{"name","description","parameters"}}]`.
pub fn read_tools(f: &Fields<'_>) -> Result<Vec<Tool>, ApiError> {
    let mut tools = Vec::new();
    for (i, t) in f.array("tools")?.into_iter().flatten().enumerate() {
        let t = f.item("tools", i, t)?;
        let function = t.object("function")?.ok_or_else(|| t.missing("function"))?;
        tools.push(Tool {
            name: function.req_str("name")?.to_string(),
            description: function.str("description")?.map(str::to_string),
            schema: function
                .get("parameters")
                .cloned()
                .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
        });
    }
    Ok(tools)
}

/// `tool_choice`: one of `modes` as a string (`required` and `any` both force a call), or
/// `{"type":"function","function":{"name":…}}`.
pub fn read_tool_choice(f: &Fields<'_>, modes: &[&str]) -> Result<ToolChoice, ApiError> {
    match f.get("tool_choice") {
        None => Ok(ToolChoice::Auto),
        Some(Value::String(mode)) if modes.contains(&mode.as_str()) => Ok(match mode.as_str() {
            "none" => ToolChoice::None,
            "required" | "any" => ToolChoice::Any,
            _ => ToolChoice::Auto,
        }),
        Some(Value::String(mode)) => Err(schema(
            "tool_choice",
            &format!("{mode} is not a valid enum value"),
        )),
        Some(Value::Object(_)) => {
            let choice = f
                .object("tool_choice")?
                .ok_or_else(|| f.missing("tool_choice"))?;
            let function = choice
                .object("function")?
                .ok_or_else(|| choice.missing("function"))?;
            Ok(ToolChoice::Tool(function.req_str("name")?.to_string()))
        }
        Some(other) => Err(schema(
            "tool_choice",
            &format!(
                "expected type: String or JSONObject, found: {}",
                kind(other)
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(v: Value) -> Result<ChatRequest, ApiError> {
        let mut req = ChatRequest::default();
        let f = Fields::new(v.as_object().unwrap(), "");
        read_messages(&f, &mut req)?;
        req.tools = read_tools(&f)?;
        req.tool_choice = read_tool_choice(&f, &["auto", "none", "required"])?;
        Ok(req)
    }

    #[test]
    fn roles_parts_tool_calls_and_tool_replies() {
        let r = read(json!({
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": [{"type": "text", "text": "weather?"}, {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,AAAA"}}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
                {"role": "tool", "tool_call_id": "call_2", "content": "windy"}
            ],
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}
        }))
        .unwrap();
        assert_eq!(r.system, ["be brief"]);
        assert!(
            matches!(&r.messages[0].content[1], Block::Image { format, .. } if format == "jpeg")
        );
        assert!(
            matches!(&r.messages[1].content[0], Block::ToolUse { input, .. } if input["city"] == "Paris")
        );
        assert_eq!(r.messages[2].content.len(), 2);
        assert_eq!(r.tool_choice, ToolChoice::Tool("get_weather".into()));
    }

    #[test]
    fn bad_messages_name_the_field() {
        let e = read(json!({"messages": [{"role": "robot", "content": "x"}]})).unwrap_err();
        assert!(
            e.message()
                .contains("#/messages/0/role: robot is not a valid enum value"),
            "{e}"
        );
        let e = read(json!({"messages": []})).unwrap_err();
        assert!(
            e.message()
                .contains("#/messages: expected minimum item count: 1"),
            "{e}"
        );
        let e = read(json!({"messages": [{"role": "user", "content": 5}]})).unwrap_err();
        assert!(e.message().contains("#/messages/0/content"), "{e}");
        let e =
            read(json!({"messages": [{"role": "user", "content": "x"}], "tool_choice": "always"}))
                .unwrap_err();
        assert!(e.message().contains("#/tool_choice: always"), "{e}");
        let image = |url: &str| {
            read(
                json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]}),
            )
        };
        assert!(image("https://example.com/cat.png").is_ok());
        for url in [
            "data:image/png;base64,!!!notbase64",
            "data:image/png,rawbytes",
        ] {
            let e = image(url).unwrap_err();
            assert!(
                e.message()
                    .contains("#/messages/0/content/0/image_url: a data URL must hold base64 data"),
                "{e}"
            );
        }
    }
}
