// The default theme, with the few styles of custom.css.
import DefaultTheme from 'vitepress/theme';
import './custom.css';

export default DefaultTheme;
