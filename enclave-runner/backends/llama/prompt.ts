import type { ChatHistoryItem } from 'node-llama-cpp';
import type { ChatMessage } from '../backend.js';

/**
 * Plain completion for models without a chat template (such as the demo model): they continue text, so
 * the prompt is the last user message alone; a system prompt would only be continued, not followed.
 */
export function toCompletionPrompt(messages: readonly ChatMessage[]): string {
  return [...messages].reverse().find((m) => m.role === 'user')?.content ?? '';
}

/** OpenAI messages as node-llama-cpp's history, ending with the empty model turn it completes. */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  for (const m of messages) {
    if (m.role === 'system') history.push({ type: 'system', text: m.content });
    else if (m.role === 'assistant') history.push({ type: 'model', response: [m.content] });
    // Tool results reach the model as user text: the runner does not run tools.
    else history.push({ type: 'user', text: m.content });
  }
  history.push({ type: 'model', response: [] });
  return history;
}
