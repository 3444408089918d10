// Word lists behind detection and generation. Small on purpose: they encode shapes and contexts, not
// knowledge of the world. Every list is lower-case unless noted.

/**
 * Company legal suffixes, grouped by legal tradition: a stand-in for "Wnzatj SAS" keeps a suffix of
 * the same family most of the time, so the perturbed question reads like the original.
 * Written in their canonical case; matching is case-insensitive and ignores dots.
 */
export const LEGAL_SUFFIX_FAMILIES: readonly (readonly string[])[] = [
  ["Inc", "Corp", "LLC", "Co", "LP", "Incorporated", "Corporation", "Company"],
  ["Ltd", "plc", "LLP", "Limited"],
  ["GmbH", "AG", "KG", "GmbH & Co. KG", "UG"],
  ["SA", "SAS", "SARL", "SCA", "SE"],
  ["BV", "NV"],
  ["SpA", "Srl"],
  ["SL", "SLU"],
  ["AB", "Oy", "AS", "ASA", "A/S", "ApS", "Oyj"],
  ["Pty Ltd", "Pty"],
  ["KK", "GK"],
  ["Sp. z o.o.", "s.r.o.", "a.s.", "Kft", "d.o.o."],
];

/** Suffix key: lower-case, dots and spaces removed, so "S.A." and "SA" and "Inc." match. */
export function suffixKey(s: string): string {
  return s.toLowerCase().replace(/[.\s]/g, "");
}

const SUFFIX_FAMILY = new Map<string, number>();
LEGAL_SUFFIX_FAMILIES.forEach((fam, i) => fam.forEach((s) => SUFFIX_FAMILY.set(suffixKey(s), i)));

/** Index of the suffix's family, or -1 when the word is not a legal suffix. */
export function legalSuffixFamily(word: string): number {
  return SUFFIX_FAMILY.get(suffixKey(word)) ?? -1;
}

/** Longest legal-suffix token count, for matching multi-word suffixes like "Pty Ltd". */
export const MAX_SUFFIX_WORDS = 4;

/** Words that make a capitalised span a company even without a legal suffix. */
export const COMPANY_WORDS = new Set([
  "group", "holdings", "holding", "industries", "technologies", "technology", "systems", "solutions",
  "labs", "laboratories", "bank", "partners", "enterprises", "ventures", "capital", "logistics",
  "pharmaceuticals", "pharma", "motors", "airlines", "energy", "software", "consulting", "studios",
  "media", "foods", "trading", "manufacturing", "services", "associates", "networks", "robotics",
]);

/** Product line words kept verbatim by the generator ("Zentra Phone 15 Pro" -> "Vupepa Phone 80 Pro"). */
export const PRODUCT_WORDS = new Set([
  "phone", "pro", "max", "mini", "plus", "ultra", "air", "lite", "edition", "series", "model", "mark", "mk",
  "tab", "pad", "book", "watch", "one", "go", "neo", "prime", "sport", "classic", "turbo", "gt", "xl",
]);

/** Words that make a capitalised span a place. */
export const PLACE_WORDS = new Set([
  "city", "town", "village", "county", "province", "state", "republic", "kingdom", "island", "islands",
  "river", "lake", "mountain", "mountains", "mount", "valley", "bay", "coast", "desert", "forest", "port",
  "street", "avenue", "road", "square", "district", "region", "peninsula", "strait", "sea", "harbor",
  "harbour", "falls", "springs", "heights", "hills",
]);

/** Honorifics and titles before a person's name: kept as-is by the generator. */
export const PERSON_TITLES = new Set([
  "mr", "mrs", "ms", "miss", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "judge", "captain",
  "general", "president", "senator", "minister", "king", "queen", "prince", "princess", "saint", "st",
]);

/** Lower-case connectors allowed inside a multi-word name ("Bank of Orveth", "Jan van Dijk"). */
export const NAME_PARTICLES = new Set([
  "of", "the", "and", "&", "de", "da", "del", "della", "di", "du", "des", "la", "le", "van", "von", "der",
  "den", "ter", "bin", "ibn", "al", "el", "y", "e", "zu", "for", "on", "in", "a", "an",
]);

/** Function words kept as-is inside generated work titles. */
export const TITLE_FUNCTION_WORDS = new Set([
  "a", "an", "the", "of", "and", "in", "on", "at", "to", "for", "from", "with", "without", "under", "over",
  "by", "beyond", "between", "after", "before", "into", "upon", "or", "nor", "but", "is", "are", "was",
]);

/**
 * Capitalised words that are not names when they start a sentence or stand alone: question words,
 * pronouns, determiners, common sentence openers. A single capital word from this list is never a name.
 */
export const NON_NAME_WORDS = new Set([
  "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "is", "are", "was", "were", "do",
  "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might", "must", "has", "have",
  "had", "the", "a", "an", "this", "that", "these", "those", "there", "here", "it", "its", "he", "she",
  "they", "we", "you", "i", "his", "her", "their", "our", "your", "my", "in", "on", "at", "for", "from",
  "to", "of", "by", "with", "as", "and", "or", "but", "if", "then", "so", "yes", "no", "not", "please",
  "tell", "describe", "explain", "name", "list", "give", "according", "based", "under", "after", "before",
  "during", "since", "while", "although", "however", "also", "both", "each", "every", "all", "any", "some",
  "one", "two", "three", "answer", "question", "q", "a:", "q:", "user", "assistant", "system", "none",
  "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "january", "february",
  "march", "april", "june", "july", "august", "september", "october", "november", "december", "english",
  "french", "german", "spanish", "italian", "chinese", "japanese", "american", "british", "european",
  "section", "clause", "article", "agreement", "contract", "party", "parties", "ok", "okay", "sure", "thanks",
  "hello", "hi", "dear", "note", "see", "ceo", "cto", "cfo", "usd", "eur", "gbp",
]);

/** Context words that point to a person when they are near a name. */
export const PERSON_CONTEXT = new Set([
  "who", "he", "she", "his", "her", "him", "born", "author", "writer", "novelist", "poet", "wrote",
  "written", "married", "father", "mother", "parents", "son", "daughter", "wife", "husband", "died", "age",
  "biography", "career", "award", "awarded", "childhood", "ceo", "founder", "actor", "singer", "player",
  "scientist", "artist", "painter", "composer", "director", "professor", "doctor", "mr", "mrs", "ms", "dr",
]);

/** Context words that point to a company. */
export const COMPANY_CONTEXT = new Set([
  "company", "firm", "corporation", "contract", "agreement", "supplier", "buyer", "seller", "vendor",
  "customer", "licensor", "licensee", "lessor", "lessee", "employer", "shares", "revenue", "headquarters",
  "headquartered", "subsidiary", "merger", "acquired", "startup", "manufacturer", "brand", "party",
]);

/** Context words that point to a place. */
export const PLACE_CONTEXT = new Set([
  "city", "country", "capital", "located", "town", "village", "region", "population", "border", "borders",
  "river", "mountain", "island", "visit", "travel", "lives", "live", "moved", "province", "state",
]);

/** Context words that point to a product. */
export const PRODUCT_CONTEXT = new Set([
  "product", "device", "model", "version", "release", "released", "launch", "launched", "price", "app",
  "software", "phone", "car", "drug", "medication", "tool", "feature", "features", "specifications",
]);

/** Context words that point to a creative work (book, film, song...). */
export const WORK_CONTEXT = new Set([
  "book", "novel", "film", "movie", "song", "album", "poem", "play", "series", "story", "title", "titled",
  "called", "painting", "opera", "symphony", "published", "publication", "episode", "chapter", "memoir",
]);

/** Prepositions after which a capitalised span is often a place. */
export const PLACE_PREPOSITIONS = new Set(["in", "from", "near", "to", "at"]);

/**
 * Real, widely known names the generator must never emit (whole names) and brand words no generated
 * token may equal. A small list: syllable-based generation rarely lands on real names; this catches
 * the few it could.
 */
export const BLOCKED_NAMES = new Set([
  "apple", "google", "amazon", "microsoft", "tesla", "nike", "sony", "samsung", "intel", "nvidia", "oracle",
  "ibm", "meta", "facebook", "netflix", "disney", "toyota", "honda", "ford", "bmw", "audi", "siemens",
  "nestle", "shell", "adidas", "puma", "nokia", "lego", "ikea", "visa", "zara", "gucci", "prada", "rolex",
  "canon", "nikon", "dell", "lenovo", "asus", "acer", "uber", "lyft", "airbus", "boeing", "pfizer", "bayer",
  "novartis", "roche", "unilever", "kodak", "xerox", "yahoo", "twitter", "tiktok", "spotify", "adobe",
  "cisco", "philips", "panasonic", "hitachi", "fiat", "ferrari", "porsche", "volvo", "skoda", "kia",
  "hyundai", "mazda", "subaru", "lexus", "pepsi", "coca", "cola", "fanta", "sprite", "lidl", "aldi",
  "tesco", "walmart", "target", "costco", "nasa", "fifa", "opel", "seat", "dacia", "lada", "vivo", "oppo",
  "xiaomi", "huawei", "alibaba", "baidu", "tencent", "sega", "nintendo", "atari", "rover", "jaguar",
  "london", "paris", "berlin", "rome", "madrid", "tokyo", "moscow", "sydney", "vienna", "prague", "dublin",
  "oslo", "lima", "cairo", "delhi", "dubai", "texas", "ohio", "utah", "india", "china", "japan", "peru",
  "chad", "mali", "oman", "cuba", "iran", "iraq", "togo", "fiji", "laos", "nepal", "kenya", "ghana",
  "einstein", "newton", "darwin", "tesla", "edison", "picasso", "mozart", "bach", "beethoven", "shakespeare",
  "obama", "trump", "biden", "lincoln", "napoleon", "caesar", "plato", "aristotle", "homer", "dante",
  "tolkien", "rowling", "orwell", "dickens", "twain", "tolstoy", "gandhi", "mandela", "elvis", "madonna",
  "beyonce", "rihanna", "adele", "shakira", "oprah", "pele", "messi", "ronaldo", "jordan", "kobe",
  "zeus", "thor", "odin", "apollo", "athena", "jesus", "moses", "buddha", "allah", "google", "yandex",
]);

/** Consonant onsets, vowel nuclei and codas for syllable-based names (lower-case). */
export const ONSETS = [
  "b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "b", "d", "k", "l",
  "m", "n", "r", "s", "t", "v",
];
export const CLUSTER_ONSETS = ["br", "dr", "gr", "kr", "tr", "vr", "bl", "fl", "gl", "sl", "st", "th", "sh", "ch"];
export const NUCLEI = ["a", "e", "i", "o", "u", "a", "e", "i", "o", "a"];
export const DIPHTHONGS = ["ai", "ei", "ou", "ia", "ea", "io"];
export const CODAS = ["n", "r", "l", "s", "m", "th", "x", "k", "v", "t", "nd", "rn", "ld", "st", "rk", "sk"];

/** Content words for fictitious work titles (capitalised). */
export const TITLE_ADJECTIVES = [
  "Silent", "Hollow", "Crimson", "Amber", "Distant", "Quiet", "Broken", "Gilded", "Pale", "Northern",
  "Wandering", "Hidden", "Fading", "Iron", "Velvet", "Salt", "Winter", "Copper", "Paper", "Last",
  "Unwritten", "Glass", "Lantern", "Ashen", "Drifting", "Sleeping", "Forgotten", "Lucid", "Bitter", "Tidal",
];
export const TITLE_NOUNS = [
  "Orchard", "Harbor", "Lantern", "Meridian", "Archive", "Tide", "Garden", "Cartographer", "Heron",
  "Compass", "Cathedral", "Ledger", "Threshold", "Atlas", "Veil", "Ember", "Quarry", "Monsoon", "Lighthouse",
  "Tapestry", "Almanac", "Furnace", "Glacier", "Mirror", "Bellwether", "Orrery", "Parable", "Estuary",
  "Sparrow", "Marrow", "Wick", "Anvil", "Hourglass", "Aviary", "Labyrinth", "Weir", "Canticle", "Kiln",
];
