// Types of llama-cpp-tool.mjs for the TypeScript tests that import it.
export declare const NODE_LLAMA_CPP_VERSION: string;
export declare function llamaCppPaths(): { dir: string; module: string };
export declare function ensureLlamaCpp(): { dir: string; module: string };
