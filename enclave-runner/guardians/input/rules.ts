/**
 * Hand-written rules for the known attack families. Every pattern is a literal alternation, a bounded gap
 * (`[^.!?]{0,N}?`) and another alternation: no nested quantifiers, so matching is linear in the input
 * times a small constant (test/enclave-runner/guardians/redos.test.ts times each one on 100 KB).
 * They run on the normalised lower-case text, its leetspeak-folded view and every decoded payload.
 */

/** The attack family a rule belongs to; deployments may set an action per family. */
export type RuleFamily = 'override' | 'role-change' | 'extraction' | 'delimiter' | 'leaking' | 'encoding';

/** `block` rules are specific enough to stop a request alone; `flag` rules only mark it for review. */
export type RuleSeverity = 'block' | 'flag';

export interface Rule {
  readonly id: string;
  readonly family: RuleFamily;
  readonly severity: RuleSeverity;
  readonly description: string;
  readonly pattern: RegExp;
  /** Matches on the raw text (case and line breaks kept) instead of the normalised view. */
  readonly raw?: boolean;
  /** Suppressed when a negation ("do not", "never") precedes it in the same sentence: system prompts say "never reveal your instructions". */
  readonly negatable?: boolean;
}

const GAP = '[^.!?]{0,40}?';
const SHORT = '[^.!?]{0,20}?';
const IGNORE = '(?:ignore|ignoring|disregard|forget|skip|bypass|override|overlook|neglect|discard|dismiss|abandon|set aside|do not follow|don\'t follow|stop following)';
const PRIOR = '(?:previous|previously|prior|above|earlier|preceding|foregoing|initial|original|former|old|system|developer|all)';
const DIRECTIVES = '(?:instructions?|directions?|directives?|rules|guidelines|prompts?|commands?|orders|requests?|context|constraints|programming|guardrails|safeguards|messages?|conversation|text)';
const DISCLOSE = '(?:reveal|repeat|print|show|output|display|tell|give|share|leak|dump|write|spell|recite|list|provide|disclose|expose|return|echo|paste|copy|translate|summari[sz]e|encode|what(?:\'s| is| are| were| was))';
const SYSPROMPT = '(?:system ?prompt|system message|initial prompt|original prompt|pre-?prompt|hidden prompt|secret prompt|prompt above|initial instructions|original instructions|hidden instructions|secret instructions|system instructions|first instructions|exact instructions|instructions (?:above|you (?:were|have been) given|given to you|you received|you are following))';
const AI = '(?:you|your|ai|a\\.i\\.|chatgpt|gpt|llm|assistant|language model|chatbot|model|bot)';
const LIMITS = '(?:restrictions|limitations|limits|filters?|filtering|censorship|guidelines|rules|ethics|ethical (?:guidelines|constraints|boundaries|principles)|morals|morality|moral (?:constraints|guidelines)|safeguards|content polic(?:y|ies)|openai(?:\'s)? polic(?:y|ies)|safety (?:guidelines|protocols|filters|measures))';

function rx(source: string, flags = ''): RegExp {
  return new RegExp(source, flags);
}

/** The rule set, in the order they are reported. */
export const RULES: readonly Rule[] = [
  // Instruction override
  { id: 'override.ignore-previous', family: 'override', severity: 'block', description: 'asks to ignore, forget or override earlier instructions',
    pattern: rx(`\\b${IGNORE}\\b${GAP}\\b${PRIOR}\\b${SHORT}\\b${DIRECTIVES}\\b`) },
  { id: 'override.ignore-above', family: 'override', severity: 'block', description: 'asks to ignore what was said above or before',
    pattern: rx(`\\b(?:ignore|disregard|forget)\\b (?:all |everything |anything )?(?:of |from )?(?:the |that |what(?:'s| is| was)? )?(?:above|before|previous(?:ly)?|prior|said above|written above|you (?:were|have been) told)\\b`) },
  { id: 'override.ignore-your-rules', family: 'override', severity: 'block', description: "asks the assistant to drop its own rules or guidelines",
    pattern: rx(`\\b${IGNORE}\\b${SHORT}\\byour\\b${SHORT}\\b(?:instructions|rules|guidelines|programming|training|restrictions|filters|polic(?:y|ies)|ethics|principles|directives|safety)\\b`) },
  { id: 'override.new-instructions', family: 'override', severity: 'flag', description: 'announces new or replacement instructions',
    pattern: rx(`\\b(?:new|updated|real|actual|true|revised|overriding|admin|administrator|priority) (?:instructions?|directives?|task|rules|system prompt|orders)\\b ?(?::|are\\b|follow\\b|supersede|override)`) },
  { id: 'override.from-now-on', family: 'override', severity: 'flag', description: 'redefines the assistant\'s behaviour "from now on"',
    pattern: rx(`\\bfrom now on\\b${GAP}\\b(?:you (?:are|will|must|shall|can|should|have|do)|act|respond|answer|reply|refer|pretend|ignore|only|always|never)\\b`) },
  { id: 'override.fake-authority', family: 'override', severity: 'block', description: 'claims an administrator, developer or system override',
    pattern: rx(`\\b(?:admin|administrator|developer|root|sudo|system|security|maintenance) (?:override|command|authori[sz]ation code)\\b ?[:!-]`) },
  { id: 'override.multilingual', family: 'override', severity: 'block', description: 'asks to ignore earlier instructions (German, French, Spanish, Italian, Portuguese, Dutch, Russian, Chinese, Japanese, Korean)',
    pattern: rx(
      '(?:\\b(?:ignorier(?:e|en|t)?|vergiss|vergessen sie|missachte)\\b[^.!?]{0,40}?(?:anweisung|instruktion|befehl|regeln|vorgaben|alles (?:was|bisher|oben))' +
        '|\\b(?:ignore[zr]?|oublie[zr]?)\\b[^.!?]{0,40}?\\b(?:les |toutes les |vos |tes )(?:instructions|consignes|règles|directives)' +
        '|\\b(?:ignora(?:r|d)?|olvida(?:r|d)?|omite|descarta)\\b[^.!?]{0,40}?\\b(?:instrucciones|indicaciones|reglas|directrices)' +
        '|\\b(?:ignora(?:re)?|dimentica(?:re)?)\\b[^.!?]{0,40}?\\b(?:istruzioni|regole|indicazioni|direttive)' +
        '|\\b(?:ignore|ignora(?:r)?|esque[cç]a|desconsidere)\\b[^.!?]{0,40}?\\b(?:instru[cç][oõ]es|regras|orienta[cç][oõ]es|diretrizes)' +
        '|\\b(?:negeer|vergeet)\\b[^.!?]{0,40}?\\b(?:instructies|regels|opdrachten|aanwijzingen)' +
        '|(?:игнорируй|игнорируйте|забудь|забудьте|не обращай внимания)[^.!?]{0,40}?(?:инструкци|указани|правил)' +
        '|(?:忽略|无视|忘记|忘掉|不要理会)[^。！？]{0,20}?(?:指令|指示|说明|规则|提示|要求)' +
        '|(?:指示|命令|ルール|プロンプト)[^。！？]{0,20}?(?:無視|忘れ)' +
        '|(?:지시|명령|규칙|프롬프트)[^.!?]{0,20}?(?:무시|잊어))',
    ) },
  // Role change and persona jailbreaks
  { id: 'role.do-anything-now', family: 'role-change', severity: 'block', description: 'DAN ("do anything now") and its named variants',
    pattern: rx(`\\b(?:do anything now|(?:dan|stan|dude|aim|mongo tom|evilbot|evil bot|antigpt|anti-gpt|betterdan|jailbreak|jailbroken|chaos|god|sudo|unrestricted|unfiltered) mode\\b)`) },
  { id: 'role.developer-mode', family: 'role-change', severity: 'block', description: 'a fake "developer mode" that lifts the assistant\'s policies',
    pattern: rx(`\\bdeveloper mode\\b${GAP}\\b(?:enabled|activated|output|polic(?:y|ies)|openai|chatgpt|uncensored|unfiltered|no restrictions|ignore)\\b`) },
  { id: 'role.unrestricted-ai', family: 'role-change', severity: 'block', description: 'an AI persona free of its restrictions, filters or ethics',
    pattern: rx(`\\b(?:without|no|free (?:of|from)|not bound by|unbound by|ignores?|bypass(?:es)?|break(?:s)? free (?:of|from)|broken free (?:of|from)|exempt from|freed from|not (?:restricted|limited) by|doesn't (?:have|follow|care about)|does not (?:have|follow|care about))\\b${SHORT}\\b${LIMITS}\\b${GAP}\\b${AI}\\b|\\b${AI}\\b${GAP}\\b(?:without|no|free (?:of|from)|not bound by|unbound by|broken free (?:of|from)|exempt from|freed from|not (?:restricted|limited) by)\\b (?:any |all |the |its |your |typical )?${LIMITS}\\b`) },
  { id: 'role.you-are-now', family: 'role-change', severity: 'block', description: 'tells the assistant it is now another, unrestricted entity',
    pattern: rx(`\\byou are (?:now|no longer)\\b${SHORT}\\b(?:dan|unrestricted|unfiltered|uncensored|jailbroken|evil|free from|not (?:an? )?(?:ai|assistant|chatgpt|bound|restricted)|bound|restricted|an? ai|chatgpt|limited)\\b`) },
  { id: 'role.pretend-unrestricted', family: 'role-change', severity: 'block', description: 'role-play set up to have no rules',
    pattern: rx(`\\b(?:pretend|imagine|act as|roleplay|role-play|simulate|behave as|hypothetical)\\b${GAP}\\b(?:no|without|unrestricted|unfiltered|uncensored|not bound by|zero|free of)\\b${SHORT}\\b${LIMITS}\\b`) },
  { id: 'role.stay-in-character', family: 'role-change', severity: 'flag', description: 'insists the persona must never be dropped',
    pattern: rx(`\\b(?:stay in character|never break character|don't break character|do not break character|remain in character)\\b`) },
  // System-prompt extraction and prompt leaking
  { id: 'extraction.system-prompt', family: 'extraction', severity: 'block', negatable: true, description: 'asks to reveal, repeat or translate the system prompt or hidden instructions',
    pattern: rx(`\\b${DISCLOSE}\\b${GAP}\\b${SYSPROMPT}\\b`) },
  { id: 'extraction.your-instructions', family: 'extraction', severity: 'block', negatable: true, description: "asks what the assistant's own instructions or rules are",
    pattern: rx(`\\b(?:what (?:are|were|is|was)|tell me|show me|list|repeat|reveal|print|give me|share|describe|summari[sz]e|change|modify|update|override)\\b (?:all )?(?:of )?(?:your|the) (?:initial |original |first |exact |hidden |secret |system |current |full |complete |specific )?(?:instructions|directives|guidelines|rules you (?:were given|follow|have been given)|prompt|programming|instructions given to you)\\b`) },
  { id: 'extraction.system-prompt-multilingual', family: 'extraction', severity: 'block', negatable: true, description: 'asks to reveal the system prompt (German, French, Spanish, Italian, Portuguese, Russian, Chinese, Japanese)',
    pattern: rx('(?:zeig|gib|verrat|wiederhol|nenn|affiche|montre|révèle|revele|répète|repete|donne|muestra|revela|repite|dime|mostra|rivela|ripeti|mostre|покажи|раскрой|повтори|выведи|显示|告诉|输出|重复|透露|見せ|教え|表示|出力)[^.!?。]{0,40}?(?:systemprompt|system-prompt|systemanweisung|prompt système|prompt systeme|instructions système|prompt del sistema|instrucciones del sistema|prompt di sistema|istruzioni di sistema|prompt do sistema|instruções do sistema|системн(?:ый|ые|ого|ых) (?:промпт|инструкц|подсказ)|系统提示|系统指令|系统消息|システムプロンプト)') },
  { id: 'leaking.repeat-above', family: 'leaking', severity: 'block', description: 'asks to repeat or print the text that came before the user message',
    pattern: rx(`\\b(?:repeat|print|output|write out|copy|echo|recite|show|list|reproduce)\\b${SHORT}\\b(?:everything|all|the text|the words|the content|the instructions|the prompt|what(?:ever)? (?:is|was|were|came))\\b${SHORT}\\b(?:above|before this|prior to this|preceding|at the (?:start|beginning|top))\\b`) },
  { id: 'leaking.conversation-start', family: 'leaking', severity: 'block', description: 'asks what was said before the conversation started',
    pattern: rx(`\\b(?:what (?:were|was|have) you (?:been )?(?:told|instructed|programmed|given|asked)|(?:text|words|instructions|messages?) (?:before|above|preceding)) ${SHORT}\\b(?:before|at the (?:start|beginning) of|prior to) (?:this|our|the) (?:conversation|chat|session|prompt|message)\\b`) },
  { id: 'leaking.start-with', family: 'leaking', severity: 'block', description: 'primes the answer to begin with the instructions or prompt',
    pattern: rx(`\\b(?:start|begin)\\b (?:your (?:answer|response|reply|output) )?with\\b ["'“]?(?:my|your|the) (?:instructions|system prompt|prompt|rules|initial prompt)\\b`) },
  { id: 'extraction.secret', family: 'extraction', severity: 'flag', negatable: true, description: 'asks for a password, access code or secret key',
    pattern: rx(`\\b(?:what is|what's|tell me|reveal|give me|share|spell|say|print|output|provide)\\b${SHORT}\\b(?:the|your)\\b${SHORT}\\b(?:password|passcode|pass ?phrase|secret (?:key|word|code|phrase)|access code|api key)\\b`) },
  // Delimiter and fake system turns (raw text: case and line breaks matter)
  { id: 'delimiter.chat-template', family: 'delimiter', severity: 'block', raw: true, description: 'chat-template control tokens or fake system blocks inside the message',
    pattern: /<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:system|system_prompt|sys)>|\[(?:system|SYSTEM)\]\s*[:(]/ },
  { id: 'delimiter.fake-role-turn', family: 'delimiter', severity: 'block', raw: true, description: 'a line posing as a system, developer or admin turn that gives orders',
    pattern: /(?:^|\n)[ \t#*>[(]{0,6}(?:system|System|SYSTEM|developer|Developer|DEVELOPER|admin|Admin|ADMIN|root|ROOT)[ \t*)\]]{0,3}(?::|-{1,2}>)[ \t]{0,4}(?:you |You |ignore|Ignore|IGNORE|from now|From now|new |New |NEW |override|Override|the user|The user|always|Always|never|Never|reveal|Reveal)/ },
  { id: 'delimiter.fake-end', family: 'delimiter', severity: 'flag', raw: true, description: 'a fake end-of-input marker followed by more text',
    pattern: /(?:END OF (?:DOCUMENT|CONTEXT|INPUT|PROMPT|TEXT|USER INPUT|DATA)|-{3,} ?end of (?:document|context|input|prompt|data) ?-{0,8}|<\/(?:document|context|data|input)>)[\s\S]{0,20}?[A-Za-z]/ },
  // Encoding smuggling
  { id: 'encoding.decode-and-follow', family: 'encoding', severity: 'block', description: 'asks to decode a payload and follow what it says',
    pattern: rx(`\\b(?:decode|decipher|decrypt|convert|translate|read)\\b${GAP}\\b(?:base64|base 64|hex|hexadecimal|rot13|rot-13|caesar|binary|morse|reversed|backwards)\\b${GAP}\\b(?:follow|execute|obey|do what|carry out|perform|run|act on|comply|instructions?)\\b`) },
];

const NEGATION = /\b(?:not|never|don't|do not|no|cannot|can't|must not|mustn't|should not|shouldn't|under no circumstances|refuse to|avoid|won't|will not)\b(?! (?:hesitate|refuse|forget|stop|fail|hold back|be afraid|worry))/;

/** One rule that fired, and on which view of the input. */
export interface RuleHit {
  readonly id: string;
  readonly family: RuleFamily;
  readonly severity: RuleSeverity;
  /** `text`, `folded` (leetspeak), `raw`, or the encoding of a decoded payload. */
  readonly view: string;
}

/** Runs every rule over the views of one input; each rule is reported at most once. */
export function matchRules(views: ReadonlyArray<{ name: string; text: string; raw: boolean }>, rules: readonly Rule[] = RULES): RuleHit[] {
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    for (const view of views) {
      if (Boolean(rule.raw) !== view.raw) continue;
      if (fires(rule, view.text)) {
        hits.push({ id: rule.id, family: rule.family, severity: rule.severity, view: view.name });
        break;
      }
    }
  }
  return hits;
}

function fires(rule: Rule, text: string): boolean {
  const m = rule.pattern.exec(text);
  if (m === null) return false;
  if (!rule.negatable) return true;
  // Scan every match: one negated sentence must not hide a later, un-negated one.
  const global = new RegExp(rule.pattern.source, `${rule.pattern.flags}g`);
  for (const g of text.matchAll(global)) if (!negated(text, g.index)) return true;
  return false;
}

function negated(text: string, at: number): boolean {
  const from = Math.max(0, at - 40);
  let before = text.slice(from, at);
  const stop = Math.max(before.lastIndexOf('.'), before.lastIndexOf('!'), before.lastIndexOf('?'));
  if (stop >= 0) before = before.slice(stop + 1);
  return NEGATION.test(before);
}
