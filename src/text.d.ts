// The console page's files are imported as text (`with { type: 'text' }`) so they are embedded in the
// compiled binary. Only the console's script is declared among .js files, so a mistyped import of a
// real module elsewhere still fails type-checking. (`*.html` is declared by bun-types, as a bundle.)
declare module '*.css' {
  const text: string
  export default text
}
declare module '*/page/console.js' {
  const text: string
  export default text
}
