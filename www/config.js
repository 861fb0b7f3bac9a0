// Where the page finds the API: '' is the origin that serves the page.
// To serve the page from another origin, put the API's origin here, e.g.
// 'https://video.example.com', and list the page's origin in
// video_api_cors there.
export const apiBase = '';
