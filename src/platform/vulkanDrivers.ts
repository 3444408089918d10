// What kind of Vulkan device WebGPU (Dawn's Vulkan backend, Linux) can reach on this machine, read
// from the Vulkan loader's driver manifests, since the Node binding does not report the adapter it
// picked. A software rasterizer (SwiftShader, lavapipe) opens sessions but runs ~100x slower than the
// CPU provider, so `auto` must never choose it; tests choose it on purpose (softwareAdapterEnv).
// In protocol/ because both the runtime and the extension host (which never loads the runtime) read it.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export interface VulkanDriver {
  manifest: string;
  library: string;
  software: boolean;
}

const SOFTWARE = /swiftshader|lvp|lavapipe|llvmpipe|mock_icd/i;

/** The manifests the loader reads: VK_DRIVER_FILES / VK_ICD_FILENAMES when set, else the standard folders. */
export function vulkanDrivers(env: NodeJS.ProcessEnv = process.env): VulkanDriver[] {
  const explicit = (env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES ?? "").split(":").filter(Boolean);
  const files = explicit.length ? explicit : standardManifests(env);
  const out: VulkanDriver[] = [];
  for (const f of files) {
    try {
      const j = JSON.parse(readFileSync(f, "utf8")) as { ICD?: { library_path?: string } };
      const library = j.ICD?.library_path ?? "";
      out.push({ manifest: f, library, software: SOFTWARE.test(library) || SOFTWARE.test(f) });
    } catch {
      // an unreadable manifest is skipped by the loader too
    }
  }
  return out;
}

function standardManifests(env: NodeJS.ProcessEnv): string[] {
  const dirs = [
    ...(env.XDG_CONFIG_DIRS ?? "/etc/xdg").split(":").map((d) => join(d, "vulkan/icd.d")),
    "/etc/vulkan/icd.d",
    ...(env.XDG_DATA_DIRS ?? "/usr/local/share:/usr/share").split(":").map((d) => join(d, "vulkan/icd.d")),
  ];
  const out: string[] = [];
  for (const d of dirs) {
    try {
      for (const n of readdirSync(d).sort()) if (n.endsWith(".json")) out.push(join(d, n));
    } catch {
      // folder absent
    }
  }
  return out;
}

/**
 * "hardware" when some Vulkan driver is a real GPU's, "software" when only software rasterizers are
 * installed, "none" without drivers. On macOS/Windows WebGPU uses Metal/D3D12 adapters: "hardware"
 * there (Dawn skips WARP unless asked), and the self-test still measures it.
 */
export function webgpuAdapterKind(
  platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): "hardware" | "software" | "none" {
  if (platform !== "linux") return "hardware";
  const drivers = vulkanDrivers(env);
  if (drivers.some((d) => !d.software)) return "hardware";
  return drivers.length ? "software" : "none";
}

/** Identifies the driver set for caching a self-test verdict (manifest, library and its size/time). */
export function driverFingerprint(env: NodeJS.ProcessEnv = process.env): string {
  return vulkanDrivers(env)
    .map((d) => {
      const lib = d.library.startsWith(".") ? join(d.manifest, "..", d.library) : d.library;
      let st = "";
      try {
        const s = statSync(lib);
        st = `${s.size}@${Math.round(s.mtimeMs)}`;
      } catch {
        /* a bare name resolved by the loader */
      }
      return `${d.library}:${st}`;
    })
    .join(",");
}

/** Where Debian's chromium package keeps SwiftShader's Vulkan driver and a Vulkan loader. */
export const CHROMIUM_LIB_DIR = "/usr/lib/chromium";

/**
 * The environment that makes WebGPU run on SwiftShader (a test path for the GPU graphs, never a
 * default). LD_LIBRARY_PATH is read once at process start, so this is for spawning a child process.
 * Null when SwiftShader is not installed.
 */
export function softwareAdapterEnv(
  base: NodeJS.ProcessEnv = process.env,
  dir = CHROMIUM_LIB_DIR,
): NodeJS.ProcessEnv | null {
  const icd = join(dir, "vk_swiftshader_icd.json");
  if (!existsSync(icd) || !existsSync(join(dir, "libvulkan.so.1"))) return null;
  const ld = [dir, ...(base.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean)].join(":");
  return { ...base, LD_LIBRARY_PATH: ld, VK_ICD_FILENAMES: icd };
}
