import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Maven packages whatever lands in target/classes/static; Spring Boot serves it at "/".
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "target/classes/static",
    emptyOutDir: true,
  },
  server: {
    proxy: {
      "/api": "http://localhost:8080",
      "/actuator": "http://localhost:8080",
    },
  },
});
