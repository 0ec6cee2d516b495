/**
 * Ordinary requests generated from templates, added to training as benign rows. Why: in the training
 * sources every "write a haiku/poem/story about ..." is an attack (CyberSecEval rows that are attacks only
 * against their system prompt), so without these the model learns that creative requests are injections.
 * Deterministic: a fixed-seed PRNG picks the combinations.
 */
const VERBS = ['Write', 'Compose', 'Create', 'Draft', 'Give me', 'Can you write', 'Please write', 'I need'];
const FORMS = ['a haiku', 'a poem', 'a short story', 'a limerick', 'a song', 'a joke', 'an essay', 'a blog post', 'a tweet', 'a paragraph', 'a sonnet', 'a product description', 'a cover letter', 'a speech', 'a riddle', 'a recipe'];
const TOPICS = ['autumn leaves', 'the sea', 'a cat', 'my grandmother', 'coffee', 'the moon', 'a robot', 'friendship', 'the city at night', 'climate change', 'a rainy day', 'running', 'a lost key', 'the first day of school', 'mountains', 'a dragon', 'spring', 'bread', 'the internet', 'time travel', 'a lighthouse', 'gardening', 'a birthday party', 'trains', 'the desert'];
const OTHER = [
  (t: string) => `Explain ${t} to a ten-year-old.`,
  (t: string) => `What are three fun facts about ${t}?`,
  (t: string) => `Give me five tips about ${t}.`,
  (t: string) => `Summarise what people usually say about ${t} in two sentences.`,
  (t: string) => `Translate "I love ${t}" into Spanish and French.`,
  (t: string) => `Tell me a joke about ${t}.`,
  (t: string) => `Describe ${t} in the style of a news report.`,
  (t: string) => `Can you help me plan a weekend around ${t}?`,
];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` distinct benign requests, the same for the same seed. */
export function syntheticBenign(count: number, seed: number): string[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const out = new Set<string>();
  for (let guard = 0; out.size < count && guard < count * 20; guard++) {
    const topic = pick(TOPICS);
    out.add(rnd() < 0.6 ? `${pick(VERBS)} ${pick(FORMS)} about ${topic}.` : pick(OTHER)(topic));
  }
  return [...out];
}
